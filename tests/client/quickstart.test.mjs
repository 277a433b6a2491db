// The README's quick start, run as documented: examples/quickstart.mjs as a child process against the LocalHost that
// run.mjs starts, whose github integration reads the fake GitHub (fake-github.mjs).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { issue } from './fake-github.mjs';

const host = process.env.SYNCHUB_URL;
const secretKey = process.env.SYNCHUB_KEY;
const github = process.env.SYNCHUB_FAKE_GITHUB;
assert.ok(host && secretKey && github, 'run through tests/client/run.mjs (SYNCHUB_URL, SYNCHUB_KEY, SYNCHUB_FAKE_GITHUB)');
const example = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'quickstart.mjs');

function run(file, env, timeoutMs) {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += chunk));
        child.stderr.on('data', (chunk) => (stderr += chunk));
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.on('error', reject);
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            resolve({ code, signal, stdout, stderr });
        });
    });
}

test('examples/quickstart.mjs imports a connection, runs the sync and prints every issue, paging', async () => {
    const repo = `q${randomUUID().slice(0, 8)}/quickstart`;
    // 150 issues (two pages of the example's 100) and a pull request, which the issues sync skips.
    const issues = Array.from({ length: 150 }, (_, i) => issue(70000 + i, new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), `Quick start issue ${i}`));
    const pullRequest = issue(79999, '2026-01-02T00:00:00Z', 'A pull request', { pullRequest: true });
    const put = await fetch(`${github}__fake/repos/${repo}`, { method: 'PUT', body: JSON.stringify({ issues: [...issues, pullRequest], labels: [] }) });
    assert.equal(put.status, 204);

    const { PATH, HOME } = process.env;
    const result = await run(example, {
        PATH,
        HOME,
        SYNCHUB_HOST: host,
        SYNCHUB_SECRET_KEY: secretKey,
        GITHUB_TOKEN: `ghp_${randomUUID()}`,
        GITHUB_REPO: repo,
        CONNECTION_ID: `quickstart-${randomUUID().slice(0, 12)}`,
    }, 90_000);

    const output = `exit ${result.code ?? result.signal}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
    assert.equal(result.code, 0, output);
    const lines = result.stdout.trim().split('\n');
    assert.match(lines[0], new RegExp(`^Imported connection quickstart-\\S+ \\(${repo}\\)\\.$`), output);
    const printed = lines.filter((l) => l.startsWith('#'));
    assert.deepEqual(printed.sort(), issues.map((i) => `#${i.number} [open] ${i.title}`).sort(), output);
    assert.equal(lines.at(-1), `150 issues of ${repo}.`, output);
    assert.doesNotMatch(result.stdout, /A pull request/);
});
