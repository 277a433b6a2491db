// The dashboard (GET /dashboard) in a real browser: Debian's chromium (/usr/bin/chromium, or SYNCHUB_CHROMIUM) driven
// by playwright-core from npm (no browser download), against the LocalHost and fake GitHub that run.mjs started.
// Screenshots go to .synchub/screenshots/ (not in the repository). Without a browser the suite is skipped, unless
// SYNCHUB_REQUIRE_BROWSER=1 (CI sets it: .ci/run installs chromium), where that is a failure.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { issue, label } from './fake-github.mjs';
import { importConnection, waitFor } from './synchub.mjs';

const host = process.env.SYNCHUB_URL;
const secretKey = process.env.SYNCHUB_KEY;
const github = process.env.SYNCHUB_FAKE_GITHUB;
assert.ok(host && secretKey && github, 'run through tests/client/run.mjs (SYNCHUB_URL, SYNCHUB_KEY, SYNCHUB_FAKE_GITHUB)');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const screenshots = path.join(root, '.synchub', 'screenshots');
const executablePath = process.env.SYNCHUB_CHROMIUM || '/usr/bin/chromium';
const required = process.env.SYNCHUB_REQUIRE_BROWSER === '1';

let chromium = null;
let missing = null;
try {
    // SYNCHUB_PLAYWRIGHT_CORE: another copy of playwright-core (a path to its index.mjs) when node_modules has none.
    ({ chromium } = await import(process.env.SYNCHUB_PLAYWRIGHT_CORE || 'playwright-core'));
} catch (error) {
    missing = `playwright-core is not installed (npm ci): ${error.message}`;
}
if (!missing && !existsSync(executablePath)) missing = `${executablePath} is missing (apt-get install -y chromium)`;
if (missing && required) throw new Error(missing);

const integration = 'github';
const tag = randomUUID().slice(0, 8);
const ok = `dash-${tag}-ok`;
const failing = `dash-${tag}-fail`;
const repo = `dash/${tag}`;
const issueCount = 250;

async function api(method, pathAndQuery, body) {
    const response = await fetch(`${host}${pathAndQuery}`, {
        method,
        headers: { Authorization: `Bearer ${secretKey}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${pathAndQuery}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
}


const statusOf = async (connection) => Object.fromEntries((await api('GET', `/sync/status?provider_config_key=${integration}&syncs=*&connection_id=${encodeURIComponent(connection)}`))
    .syncs.map((s) => [s.name, s]));

describe('the dashboard in a browser', { skip: missing ?? false }, () => {
    let browser;
    let context;
    let page;

    before(async () => {
        const issues = Array.from({ length: issueCount }, (_, i) => issue(i + 1, new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()));
        const put = await fetch(`${github}__fake/repos/${repo}`, { method: 'PUT', body: JSON.stringify({ issues, labels: [label(1, 'bug'), label(2, 'docs'), label(3, 'ui')] }) });
        assert.equal(put.status, 204);
        await importConnection(host, secretKey, ok, { metadata: { repo } });
        await importConnection(host, secretKey, failing); // no repo in its metadata: its runs fail
        await waitFor('the first runs', async () => {
            const [good, bad] = [await statusOf(ok), await statusOf(failing)];
            return good.issues?.status === 'SUCCESS' && good.issues.recordCount.GithubIssue === issueCount && good.labels?.status === 'SUCCESS'
                && bad.issues?.status === 'ERROR' && bad.labels?.status === 'ERROR';
        });
        mkdirSync(screenshots, { recursive: true });
        browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
        context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        page = await context.newPage();
        page.setDefaultTimeout(20_000);
    });

    after(async () => {
        await browser?.close();
    });

    const row = (connection, sync) => page.locator(`#syncs tr[data-connection="${connection}"][data-sync="${sync}::base"]`);

    test('a wrong key shows the API error; the right key signs in and stays out of cookies and the URL', async () => {
        await page.goto(`${host}/dashboard`);
        await page.getByLabel('Secret key').fill(randomUUID());
        await page.getByRole('button', { name: 'Sign in' }).click();
        const alert = page.getByRole('alert');
        await alert.filter({ hasText: '401' }).waitFor();
        assert.match(await alert.textContent(), /401 unknown_account: /);
        assert.equal(await page.evaluate(() => sessionStorage.length), 0);

        await page.getByLabel('Secret key').fill(secretKey);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.locator('#syncs').waitFor();
        assert.equal(await page.evaluate(() => Object.values(sessionStorage).join()), secretKey);
        assert.deepEqual(await context.cookies(), []);
        assert.ok(!page.url().includes(secretKey));
    });

    test('the overview lists the connections and their syncs with counts, states and the error', async () => {
        await page.getByLabel('Connection id').fill(`dash-${tag}`);
        await page.locator('#summary', { hasText: '4 syncs of 2 connections' }).waitFor();
        assert.equal(await page.locator('#syncs tbody tr').count(), 4);
        assert.equal(await row(ok, 'issues').getAttribute('data-status'), 'SUCCESS');
        assert.equal((await row(ok, 'issues').locator('.c-records').textContent()).trim(), `GithubIssue: ${issueCount}`);
        assert.equal((await row(ok, 'labels').locator('.c-records').textContent()).trim(), 'GithubLabel: 3');
        assert.match(await row(ok, 'issues').locator('.c-result').textContent(), new RegExp(`GithubIssue: \\+${issueCount} ~0 −0`));
        assert.equal(await row(ok, 'issues').locator('.c-frequency').textContent(), 'every 30 minutes');
        assert.equal(await row(ok, 'labels').locator('.c-frequency').textContent(), 'every hour');
        assert.equal(await row(failing, 'issues').getAttribute('data-status'), 'ERROR');
        assert.ok((await row(failing, 'issues').locator('.sync-error').textContent()).length > 0);
        // The status filter and sorting.
        await page.getByLabel('Status').selectOption('ERROR');
        await page.locator('#summary', { hasText: '2 syncs of 1 connection' }).waitFor();
        await page.getByLabel('Status').selectOption('');
        // Sorting from the keyboard; the focus stays on the header through the next poll's re-draw.
        await page.locator('#syncs th button[data-sort="status"]').focus();
        await page.keyboard.press('Enter');
        assert.equal(await page.locator('#syncs th[aria-sort]').getAttribute('aria-sort'), 'ascending');
        assert.equal(await page.locator('#syncs tbody tr').first().getAttribute('data-status'), 'ERROR');
        const stamp = await page.locator('#updated').textContent();
        await page.waitForFunction((before) => document.getElementById('updated').textContent !== before, stamp, { timeout: 15_000 });
        assert.equal(await page.evaluate(() => document.activeElement?.dataset.sort), 'status');
        await page.screenshot({ path: path.join(screenshots, 'overview.png'), fullPage: true });
        // On a phone the overview is a card per sync, each value labelled: nothing scrolls sideways.
        await page.setViewportSize({ width: 390, height: 844 });
        const phone = await page.evaluate(() => {
            const td = document.querySelector('#syncs tbody td.c-status');
            return {
                page: document.documentElement.scrollWidth, viewport: window.innerWidth,
                wrap: document.querySelector('.table-wrap').scrollWidth, wrapVisible: document.querySelector('.table-wrap').clientWidth,
                label: getComputedStyle(td, '::before').content, row: getComputedStyle(td.parentElement).display,
            };
        });
        assert.ok(phone.page <= phone.viewport, `the page is ${phone.page}px wide in a ${phone.viewport}px viewport`);
        assert.ok(phone.wrap <= phone.wrapVisible, `the table scrolls: ${phone.wrap}px in ${phone.wrapVisible}px`);
        assert.equal(phone.label, '"Status"');
        assert.equal(phone.row, 'block');
        await page.screenshot({ path: path.join(screenshots, 'overview-phone.png'), fullPage: true });
        await page.setViewportSize({ width: 1280, height: 900 });
        assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('#syncs tbody tr')).display), 'table-row');
    });

    test('a failing sync shows its error on its page', async () => {
        await row(failing, 'issues').getByRole('link').click();
        await page.locator('#fields[data-status="ERROR"]').waitFor();
        assert.ok((await page.locator('#sync-error').textContent()).length > 0);
        await page.screenshot({ path: path.join(screenshots, 'sync-error.png'), fullPage: true });
    });

    test('trigger, pause, start and a frequency change show on the sync page without reloading', async () => {
        await page.goto(`${host}/dashboard#/sync/${integration}/${encodeURIComponent(ok)}/issues/base`);
        const fields = page.locator('#fields');
        await page.locator('#fields[data-status="SUCCESS"]').waitFor();
        const before = await fields.getAttribute('data-finished-at');
        await page.evaluate(() => { window.notReloaded = true; });

        await page.getByRole('button', { name: 'Trigger', exact: true }).click();
        await page.locator('#answer', { hasText: 'POST /sync/trigger → 200' }).waitFor();
        await page.waitForFunction((previous) => {
            const f = document.getElementById('fields');
            return f.dataset.status === 'SUCCESS' && f.dataset.finishedAt && f.dataset.finishedAt !== previous;
        }, before, { timeout: 30_000 });
        assert.equal(await page.evaluate(() => window.notReloaded), true);

        await page.getByRole('button', { name: 'Pause' }).click();
        await page.locator('#fields[data-status="PAUSED"]').waitFor();
        assert.equal(await page.locator('.next-run').textContent(), '—');
        assert.equal((await statusOf(ok)).issues.status, 'PAUSED');
        await page.getByRole('button', { name: 'Start' }).click();
        await page.waitForFunction(() => ['RUNNING', 'SUCCESS'].includes(document.getElementById('fields').dataset.status));
        assert.notEqual((await statusOf(ok)).issues.status, 'PAUSED');

        await page.getByLabel('Frequency').fill('every 2 hours');
        await page.getByRole('button', { name: 'Change frequency' }).click();
        await page.locator('#answer', { hasText: '"frequency":"every 2 hours"' }).waitFor();
        await page.locator('#current-frequency', { hasText: 'every 2 hours' }).waitFor();
        const next = Date.parse(await fields.getAttribute('data-next'));
        assert.ok(next > Date.now() + 90 * 60_000, `next run ${new Date(next).toISOString()} is not about two hours away`);
        assert.match(await page.locator('.next-run').textContent(), /^in (1|2) hours?$/);
        assert.equal((await statusOf(ok)).issues.frequency, 'every 2 hours');
        assert.equal(await page.evaluate(() => window.notReloaded), true);
        await page.screenshot({ path: path.join(screenshots, 'sync.png'), fullPage: true });
    });

    test('the sync page lists the finished runs, newest first, with a chart of changes and durations', async () => {
        await page.goto(`${host}/dashboard#/sync/${integration}/${encodeURIComponent(ok)}/issues/base`);
        await page.locator('#fields[data-status="SUCCESS"]').waitFor();
        const before = await page.locator('#fields').getAttribute('data-finished-at');
        await page.getByRole('button', { name: 'Trigger', exact: true }).click();
        await page.waitForFunction((previous) => {
            const f = document.getElementById('fields');
            return f.dataset.status === 'SUCCESS' && f.dataset.finishedAt && f.dataset.finishedAt !== previous;
        }, before, { timeout: 30_000 });
        // The import's run and the triggers of this suite: at least two, as the API lists them.
        await page.waitForFunction(() => document.querySelectorAll('#runs tr').length >= 2, null, { timeout: 30_000 });
        const runs = (await api('GET', `/sync/runs?provider_config_key=${integration}&connection_id=${encodeURIComponent(ok)}&sync=issues`)).runs;
        assert.ok(runs.length >= 2);
        assert.deepEqual(await page.locator('#runs tr').evaluateAll((rows) => rows.map((r) => r.dataset.run)), runs.slice(0, 20).map((r) => r.id));
        assert.equal(runs.at(-1).type, 'INITIAL');
        assert.equal(runs.at(-1).results.GithubIssue.added, issueCount);
        assert.match(await page.locator('#runs tr').last().textContent(), new RegExp(`GithubIssue: \\+${issueCount} ~0 −0`));
        assert.equal(await page.locator('#runs-chart svg').count(), 1);
        assert.equal(await page.locator('#runs-chart svg rect.bar').count(), runs.slice(0, 20).length);
        await page.locator('#runs-title').scrollIntoViewIfNeeded();
        await page.screenshot({ path: path.join(screenshots, 'sync-history.png'), fullPage: true });
    });

    test('the records browser pages through every record exactly once', async () => {
        await page.getByRole('link', { name: 'Browse GithubIssue' }).click();
        await page.locator('#records-info', { hasText: 'Page 1:' }).waitFor();
        const seen = [];
        for (let index = 1; ; index++) {
            await page.locator('#records-info', { hasText: `Page ${index}:` }).waitFor();
            seen.push(...await page.locator('#records article').evaluateAll((items) => items.map((a) => a.dataset.id)));
            if (await page.locator('#records-next').isDisabled()) break;
            await page.locator('#records-next').click();
        }
        assert.equal(seen.length, issueCount);
        assert.equal(new Set(seen).size, issueCount);
        assert.deepEqual([...seen].sort(), Array.from({ length: issueCount }, (_, i) => String(i + 1)).sort());
        const first = JSON.parse(await page.locator('#records article pre.payload').first().textContent());
        assert.ok(first.title && !('_nango_metadata' in first));
        await page.screenshot({ path: path.join(screenshots, 'records.png') });

        // ids and a wrong filter: the API's answer, then its error.
        await page.getByLabel('Ids').fill('3,7');
        await page.getByRole('button', { name: 'Load' }).click();
        await page.locator('#records-info', { hasText: 'Page 1: 2 records' }).waitFor();
        await page.getByLabel('Filter').fill('nope');
        await page.getByRole('button', { name: 'Load' }).click();
        await page.getByRole('alert').filter({ hasText: '400 invalid_query_params' }).waitFor();
    });

    test('sign out forgets the key', async () => {
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByLabel('Secret key').waitFor();
        assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    });
});
