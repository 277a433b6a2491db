// Runs the Node client suite (tests/client/*.test.mjs, the real @nangohq/node) against a LocalHost it starts.
// Builds nothing: scripts/test.sh has built Release already. Storage: SYNCHUB_TEST_STORAGE, default the local Azurite.
// The github integration points at a fake GitHub started here (fake-github.mjs; the tests drive it through
// SYNCHUB_FAKE_GITHUB), LocalHost has a run queue of its own (so no other process runs its syncs, nor it theirs), and
// its scheduler ticks every second. Its webhooks go to a sink started here too (webhook-sink.mjs, SYNCHUB_WEBHOOK_SINK).
// Prints the node test runner's TAP output (ending in "# pass N" / "# fail N") and exits with its exit code.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { oauthClient, startFakeGithub } from './fake-github.mjs';
import { startWebhookSink } from './webhook-sink.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const dll = path.join(root, 'functions', 'SyncHub.LocalHost', 'bin', 'Release', 'net10.0', 'SyncHub.LocalHost.dll');
const storage = process.env.SYNCHUB_TEST_STORAGE || 'UseDevelopmentStorage=true';

function freePort() {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}

/**
 * The app's nango.yaml with the github integration's base_url pointed at the fake GitHub, and an oauth client whose
 * token endpoint is the fake's (its id and secret in the settings, as SyncHub__Integrations__github__ClientId/Secret).
 */
function writeConfig(directory, githubUrl) {
    const source = readFileSync(path.join(root, 'functions', 'SyncHub.Functions', 'nango.yaml'), 'utf8');
    const oauth = ['    oauth:', `      token_url: ${githubUrl}oauth/token`, '      client_id: ${GITHUB_CLIENT_ID}', '      client_secret: ${GITHUB_CLIENT_SECRET}'].join('\n');
    const config = source.replace(/^(\s*base_url:\s*)https:\/\/api\.github\.com\/?\s*$/m, `$1${githubUrl}\n${oauth}`);
    if (config === source) throw new Error('nango.yaml has no github base_url to replace');
    const file = path.join(directory, 'nango.yaml');
    writeFileSync(file, config);
    return file;
}

function writeSettings(directory, secretKey, variables, configPath, webhookUrl) {
    const sample = JSON.parse(readFileSync(path.join(root, 'local.settings.sample.json'), 'utf8'));
    const values = { ...sample.Values };
    for (const name of Object.keys(values)) {
        if (name.startsWith('SyncHub__EnvironmentVariables__')) delete values[name];
    }
    Object.assign(values, {
        AzureWebJobsStorage: storage,
        SyncHubStorage: storage,
        SyncHub__SecretKeys: secretKey,
        SyncHub__EncryptionKey: randomBytes(32).toString('base64'),
        SyncHub__ConfigPath: configPath,
        SyncHubRunQueue: `client-runs-${randomBytes(6).toString('hex')}`,
        SyncHubWebhookQueue: `client-hooks-${randomBytes(6).toString('hex')}`,
        // Webhooks go to the sink (webhook-sink.mjs), signed with the secret key (no SigningKey: Nango's fallback).
        SyncHub__Webhooks__PrimaryUrl: webhookUrl,
        SyncHub__Webhooks__RetryDelays: '200ms,200ms',
        SyncHubSchedulerCron: '*/1 * * * * *',
        SyncHub__Integrations__github__ClientId: oauthClient.id,
        SyncHub__Integrations__github__ClientSecret: oauthClient.secret,
    });
    for (const [name, value] of Object.entries(variables)) values[`SyncHub__EnvironmentVariables__${name}`] = value;
    const file = path.join(directory, 'local.settings.json');
    writeFileSync(file, JSON.stringify({ ...sample, Values: values }, null, 2), { mode: 0o600 });
    return file;
}

async function waitUntilAnswering(url, child, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`LocalHost exited with code ${child.exitCode} before answering`);
        try {
            const response = await fetch(`${url}/environment-variables`, { signal: AbortSignal.timeout(2000) });
            if (response.status === 401) return;
        } catch {
            // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`LocalHost did not answer on ${url} within ${timeoutMs / 1000} s`);
}

function stop(child) {
    return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
            clearTimeout(timer);
            resolve();
        });
        process.kill(child.pid, 'SIGTERM');
    });
}

async function main() {
    if (!existsSync(dll)) {
        console.error(`${dll} is missing: build first (dotnet build SyncHub.Functions.sln -c Release).`);
        return 1;
    }
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const secretKey = randomUUID();
    const variables = { GREETING: 'hello from SyncHub', CLIENT_RUN: randomUUID() };
    const directory = mkdtempSync(path.join(os.tmpdir(), 'synchub-client-'));
    const github = await startFakeGithub();
    const sink = await startWebhookSink();
    const settings = writeSettings(directory, secretKey, variables, writeConfig(directory, github.url), sink.hooksUrl);

    mkdirSync(path.join(root, '.synchub'), { recursive: true });
    const logFile = path.join(root, '.synchub', 'client-localhost.log');
    const log = openSync(logFile, 'w');
    const env = { ...process.env };
    for (const name of Object.keys(env)) {
        if (/^(SyncHub|AzureWebJobs|ASPNETCORE_)/i.test(name)) delete env[name];
    }
    const child = spawn('dotnet', [dll, '--urls', url, '--settings', settings], { cwd: directory, env, stdio: ['ignore', log, log] });
    const cleanup = async () => {
        await stop(child);
        await github.close();
        await sink.close();
        rmSync(directory, { recursive: true, force: true });
    };
    for (const signal of ['SIGINT', 'SIGTERM']) {
        process.once(signal, async () => {
            await cleanup();
            process.exit(130);
        });
    }

    try {
        await waitUntilAnswering(url, child, 30_000);
    } catch (error) {
        console.error(`${error.message}. LocalHost output (${logFile}):`);
        console.error(readFileSync(logFile, 'utf8'));
        await cleanup();
        return 1;
    }

    // Arguments, if any, pick test files by name (node tests/client/run.mjs webhooks).
    const only = process.argv.slice(2);
    const files = readdirSync(here).filter((f) => f.endsWith('.test.mjs') && (only.length === 0 || only.some((o) => f.includes(o))))
        .sort().map((f) => path.join(here, f));
    const code = await new Promise((resolve) => {
        const runner = spawn(process.execPath, ['--test', '--test-reporter=tap', ...files], {
            cwd: root,
            stdio: 'inherit',
            env: {
                ...process.env,
                SYNCHUB_URL: url,
                SYNCHUB_KEY: secretKey,
                SYNCHUB_ENVIRONMENT_VARIABLES: JSON.stringify(variables),
                SYNCHUB_FAKE_GITHUB: github.url,
                SYNCHUB_WEBHOOK_SINK: sink.url,
            },
        });
        runner.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
    });
    await cleanup();
    return code;
}

process.exitCode = await main();
