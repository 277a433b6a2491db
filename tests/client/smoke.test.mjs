// scripts/smoke.sh, the deployment smoke test, run as documented against the LocalHost that run.mjs starts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const host = process.env.SYNCHUB_URL;
const secretKey = process.env.SYNCHUB_KEY;
assert.ok(host && secretKey, 'run through tests/client/run.mjs (SYNCHUB_URL, SYNCHUB_KEY)');
const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'smoke.sh');

function smoke(...args) {
    return new Promise((resolve, reject) => {
        const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (chunk) => (output += chunk));
        child.stderr.on('data', (chunk) => (output += chunk));
        const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
        child.on('error', reject);
        child.on('close', (code) => {
            clearTimeout(timer);
            resolve({ code, output });
        });
    });
}

test('scripts/smoke.sh --write passes against a running SyncHub and never prints the key', async () => {
    const { code, output } = await smoke(host, secretKey, '--write');
    assert.equal(code, 0, output);
    assert.match(output, /^smoke: (\d+) passed, 0 failed$/m);
    assert.ok(Number(output.match(/^smoke: (\d+) passed/m)[1]) >= 18, output);
    assert.ok(!output.includes(secretKey), 'the secret key was printed');
});

test('scripts/smoke.sh fails with a wrong key, naming what failed', async () => {
    const { code, output } = await smoke(host, '00000000-0000-4000-8000-00000000dead');
    assert.equal(code, 1, output);
    assert.match(output, /^FAIL  GET \/integrations: expected 200, got 401/m);
});
