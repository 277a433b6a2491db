// Tests of the test runner itself (scripts/test-lib.sh, scripts/test-summary.sh): it must never print
// "N passed, 0 failed" unless every suite ran to its end and passed. Sample logs are in fixtures/; the crash and the
// hang are real (tests/runner-check calls Environment.FailFast; a `sleep` outlives its time limit).
// Run by scripts/test.sh with `node --test`; needs bash, coreutils' timeout and, for the crash, the .NET SDK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const fixture = (name) => path.join(here, 'fixtures', name);

function bash(script, args = [], timeout = 120_000) {
    const result = spawnSync('bash', ['-c', script, 'bash', ...args], { cwd: root, encoding: 'utf8', timeout });
    assert.equal(result.error, undefined, `bash failed to run: ${result.error}`);
    const lines = result.stdout.trimEnd().split('\n');
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, last: lines[lines.length - 1] };
}

/** The summariser on KIND NAME LOG STATUS groups. */
function summarise(...groups) {
    return bash('bash scripts/test-summary.sh "$@"', groups.flat().map(String));
}

const cases = [
    // [what, [kind, name, log, status], last line, exit status, what the output must say]
    ['a passing project', ['dotnet', 'Pass', fixture('dotnet-pass.log'), 0], '3 passed, 0 failed, 1 skipped', 0],
    ['a project with a failed test', ['dotnet', 'F', fixture('dotnet-failed.log'), 1], '2 passed, 1 failed, 1 skipped', 1, /FAILED F: 1 failed test/],
    ['a crashed test host: "Passed!" then "Test Run Aborted", non-zero exit', ['dotnet', 'Crash', fixture('dotnet-crashed.log'), 1], '212 passed, 1 failed, 1 skipped', 1, /FAILED Crash: test run aborted/],
    ['a crashed test host even with exit status 0', ['dotnet', 'Crash', fixture('dotnet-crashed.log'), 0], '212 passed, 1 failed, 1 skipped', 1, /aborted/],
    ['an aborted run with no summary', ['dotnet', 'Abort', fixture('dotnet-aborted.log'), 1], '0 passed, 1 failed, 0 skipped', 1, /aborted/],
    ['a project that printed no summary, exit 0', ['dotnet', 'Cut', fixture('dotnet-no-summary.log'), 0], '0 passed, 1 failed, 0 skipped', 1, /FAILED Cut: no test summary/],
    ['a project that ran zero tests', ['dotnet', 'Zero', fixture('dotnet-zero-tests.log'), 0], '0 passed, 1 failed, 0 skipped', 1, /FAILED Zero: ran no test/],
    ['a "Passed!" summary with a non-zero exit', ['dotnet', 'Odd', fixture('dotnet-pass.log'), 2], '3 passed, 1 failed, 1 skipped', 1, /exited with status 2/],
    ['a hung project (timeout)', ['dotnet', 'Slow', fixture('dotnet-hang.log'), 124], '0 passed, 1 failed, 0 skipped', 1, /FAILED Slow: hung/],
    ['a hung project whose log has a summary', ['dotnet', 'Slow', fixture('dotnet-pass.log'), 124], '3 passed, 1 failed, 1 skipped', 1, /FAILED Slow: hung/],
    ['a passing Node suite', ['tap', 'client', fixture('node-pass.log'), 0], '3 passed, 0 failed, 1 skipped', 0],
    ['a Node suite ending without its summary', ['tap', 'client', fixture('node-no-summary.log'), 1], '0 passed, 1 failed, 0 skipped', 1, /FAILED client: no '# pass N' summary/],
    ['a Node suite whose LocalHost never answered', ['tap', 'client', fixture('node-localhost-down.log'), 1], '0 passed, 1 failed, 0 skipped', 1, /FAILED client/],
    ['a missing Node suite (no log)', ['tap', 'client', fixture('no-such.log'), 'missing'], '0 passed, 1 failed, 0 skipped', 1, /FAILED client: did not run/],
    ['a hung Node suite', ['tap', 'client', fixture('node-no-summary.log'), 124], '0 passed, 1 failed, 0 skipped', 1, /FAILED client: hung/],
    ['a failed build', ['step', 'build', fixture('no-such.log'), 1], '0 passed, 1 failed, 0 skipped', 1, /FAILED build/],
];

for (const [what, group, last, status, says] of cases) {
    test(`summary: ${what}`, () => {
        const run = summarise(group);
        assert.equal(run.last, last, run.stdout);
        assert.equal(run.status, status, run.stdout);
        if (says) assert.match(run.stdout, says);
    });
}

test('summary: counts per project, so one crashed project fails a run whose others passed', () => {
    const run = summarise(
        ['dotnet', 'SyncHub.Tests', fixture('dotnet-crashed.log'), 1],
        ['dotnet', 'SyncHub.Infra.Tests', fixture('dotnet-pass.log'), 0],
        ['tap', 'client', fixture('node-pass.log'), 0],
    );
    assert.equal(run.last, '218 passed, 1 failed, 3 skipped', run.stdout);
    assert.equal(run.status, 1);
    assert.match(run.stdout, /SyncHub.Tests: passed 212, failed 1, skipped 1/);
});

test('summary: a whole passing run', () => {
    const run = summarise(
        ['step', 'build', fixture('no-such.log'), 0],
        ['dotnet', 'SyncHub.Infra.Tests', fixture('dotnet-pass.log'), 0],
        ['tap', 'client', fixture('node-pass.log'), 0],
    );
    assert.equal(run.last, '6 passed, 0 failed, 2 skipped', run.stdout);
    assert.equal(run.status, 0);
    assert.doesNotMatch(run.stdout, /FAILED/);
});

test('summary: nothing at all is a failure', () => {
    const run = summarise();
    assert.equal(run.last, '0 passed, 1 failed, 0 skipped');
    assert.equal(run.status, 1);
});

test('runner: finds the test projects of the solution, not the benchmarks nor tests/runner-check', () => {
    const run = bash('source scripts/test-lib.sh && test_projects SyncHub.Functions.sln');
    assert.equal(run.status, 0, run.stderr);
    const projects = run.stdout.trim().split('\n');
    assert.ok(projects.includes('tests/SyncHub.Tests/SyncHub.Tests.csproj'), run.stdout);
    assert.ok(projects.includes('tests/SyncHub.Infra.Tests/SyncHub.Infra.Tests.csproj'), run.stdout);
    assert.ok(!projects.some((p) => /Benchmarks|runner-check/.test(p)), run.stdout);
});

test('runner: a real hang is stopped at its time limit and named', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'synchub-runner-'));
    try {
        const run = bash('source scripts/test-lib.sh && run_node_suite stuck "$1/stuck.log" 1 sleep 30; bash scripts/test-summary.sh "${results[@]}"', [dir], 30_000);
        assert.equal(run.last, '0 passed, 1 failed, 0 skipped', run.stdout);
        assert.equal(run.status, 1);
        assert.match(run.stdout, /FAILED stuck: hung/);
        assert.match(run.stderr, /stuck hung: stopped after its time limit of 1 s/);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});

test('runner: a real crashing test host (Environment.FailFast) is a failure', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'synchub-runner-'));
    try {
        const run = bash(
            'source scripts/test-lib.sh\n' +
            'run_step build "$1/build.log" 120 dotnet build tests/runner-check/RunnerCheck.csproj -c Release -nologo -v q || { cat "$1/build.log"; exit 3; }\n' +
            'results=()\n' +
            'run_dotnet_project RunnerCheck tests/runner-check/RunnerCheck.csproj "$1" 120\n' +
            'bash scripts/test-summary.sh "${results[@]}"',
            [dir], 280_000);
        assert.notEqual(run.status, 3, `tests/runner-check did not build:\n${run.stdout}`);
        assert.equal(run.last, '0 passed, 1 failed, 0 skipped', run.stdout);
        assert.equal(run.status, 1);
        assert.match(run.stdout, /FAILED RunnerCheck: test run aborted/);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});
