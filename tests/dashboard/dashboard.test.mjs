// The dashboard end to end: the real srmi binary, Debian's Chromium headless
// driven by playwright-core, changes made over JSON-RPC and seen on the page.
// Run: SRMI_BIN=build/srmi node --test tests/dashboard/dashboard.test.mjs
// Keeps a screenshot in $SRMI_ARTIFACTS (default: build/artifacts)/dashboard.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import {
  eventually, expectText, launchBrowser, repoRoot, rpc, srmiBinary, startSrmi,
} from './harness.mjs';

const artifacts = process.env.SRMI_ARTIFACTS ||
  path.join(process.env.SRMI_BIN ? path.dirname(path.resolve(process.env.SRMI_BIN)) : path.join(repoRoot, 'build'),
            'artifacts');
const groupsArgs = ['--group', 'custom', '--group', 'alarms'];

let server = null;     // the srmi currently running
let browser = null;
let page = null;
const pageProblems = [];  // console errors (CSP violations among them) and uncaught exceptions

const row = (group, identifier) => page.locator(`tr[data-group="${group}"][data-identifier="${identifier}"]`);

const contrastChecked = ['body', '#summary', 'thead th', 'tbody th', '.badge.ok', '.badge.bad', '.reports time',
                         '.reports .log', '#connection', '#refresh', 'td.details .none', 'footer'];

// In the page: WCAG contrast ratio of each selector's first element against
// the nearest opaque background behind it.
function contrastRatios(selectors) {
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (e) => {
    for (; e; e = e.parentElement) {
      const bg = rgb(getComputedStyle(e).backgroundColor);
      if (bg.length === 3 || (bg.length === 4 && bg[3] === 1)) return bg.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = {};
  for (const selector of selectors) {
    const e = document.querySelector(selector);
    if (!e) { out[selector] = null; continue; }
    const [a, b] = [luminance(rgb(getComputedStyle(e).color).slice(0, 3)), luminance(background(e))];
    out[selector] = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  }
  return out;
}

before(async () => {
  srmiBinary();  // fails early, with the path, when it is missing
  mkdirSync(artifacts, { recursive: true });
  server = await startSrmi(groupsArgs);
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? await browser.context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') pageProblems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => pageProblems.push(`pageerror: ${e.message}`));
});

after(async () => {
  if (page) {
    await page.screenshot({ path: path.join(artifacts, 'dashboard-last.png'), fullPage: true }).catch(() => {});
  }
  if (browser) await browser.close().catch(() => {});
  if (server) await server.stop();
});

// A deadline of its own, below ctest's, so that after() still stops everything.
test('the dashboard shows the registry and follows it live', { timeout: 120000 }, async (t) => {
  await t.test('GET / is the page, with a CSP that admits exactly its inline script and style', async () => {
    const response = await page.goto(`http://127.0.0.1:${server.port}/`);
    assert.equal(response.status(), 200);
    const headers = response.headers();
    assert.equal(headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(headers['cache-control'], 'no-store');
    const csp = headers['content-security-policy'];
    const html = await response.text();
    for (const tag of ['script', 'style']) {
      const inline = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(html)[1];
      const hash = createHash('sha256').update(inline, 'utf8').digest('base64');
      assert.ok(csp.includes(`${tag}-src 'sha256-${hash}'`), `${tag} hash missing from ${csp}`);
    }
    assert.ok(csp.startsWith("default-src 'none'"), csp);
    assert.ok(!csp.includes('unsafe'), csp);
  });

  await t.test('it goes live and shows every group and identifier with its status', async () => {
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10000 });
    const groups = await rpc(server.port, 'sr_list_status');
    assert.deepEqual(groups.map((g) => g.Name), ['core', 'custom', 'alarms']);
    for (const group of groups) {
      await page.locator(`section[data-group="${group.Name}"] h2`).filter({ hasText: group.Name }).waitFor({ timeout: 5000 });
      for (const id of group.Identifiers) {
        const parts = [id.Name, id.Readiness ? '● ready' : '▲ not ready', String(id.Status)];
        if (id.Details) parts.push(id.Details);
        await expectText(row(group.Name, id.Name), parts, 5000);
      }
    }
    // The server's own start-up reports are listed under core.
    await expectText(row('core', 'main'), ['initialization completed'], 5000);
    await expectText(page.locator('#summary'), ['3 groups', '3 identifiers', 'all ready'], 1000);
    assert.equal(await page.locator('#banner').isVisible(), false);
  });

  await t.test('a status set over JSON-RPC shows within a second, as text and shape, not colour alone', async () => {
    assert.equal(await rpc(server.port, 'sr_set_status', { group: 'custom', status: -3, details: 'warming up' }), 'OK');
    const started = Date.now();
    await expectText(row('custom', 'main'), ['▲ not ready', '-3', 'warming up'], 1000);
    t.diagnostic(`status shown after ${Date.now() - started} ms`);
    await expectText(page.locator('section[data-group="custom"] h2'), ['▲ 1 of 1 not ready'], 1000);
    await expectText(page.locator('#summary'), ['1 not ready'], 1000);
    // Screen readers hear it through the polite live region.
    assert.equal(await page.locator('#announcer').getAttribute('aria-live'), 'polite');
    await expectText(page.locator('#announcer'), ['custom / main: not ready, status -3, warming up'], 1000);
  });

  await t.test('a report added over JSON-RPC shows within a second', async () => {
    assert.equal(await rpc(server.port, 'sr_add_report', { group: 'custom', report: 'cache 40% warm' }), 'OK');
    await expectText(row('custom', 'main').locator('td.reports'), ['cache 40% warm'], 1000);
    assert.equal(await rpc(server.port, 'sr_add_report', ['alarms', 'smoke detector 2 tested']), 'OK');
    await expectText(row('alarms', 'main').locator('td.reports'), ['smoke detector 2 tested'], 1000);
  });

  await t.test('an identifier added at run time appears with the first event naming it, or on Refresh', async () => {
    await rpc(server.port, 'sr_add_identifier', { group: 'custom', identifier: 'replica-1', status: -1, details: 'syncing' });
    await rpc(server.port, 'sr_set_status', { group: 'custom', identifier: 'replica-1', status: 2, details: 'in sync' });
    await expectText(row('custom', 'replica-1'), ['replica-1', '● ready', '2', 'in sync'], 2000);

    await rpc(server.port, 'sr_add_identifier', { group: 'alarms', identifier: 'siren' });
    assert.equal(await row('alarms', 'siren').count(), 0);  // no event for it: nothing polls
    await page.locator('#refresh').focus();
    await page.keyboard.press('Enter');
    await expectText(row('alarms', 'siren'), ['siren', '● ready'], 2000);
  });

  await t.test('the filter narrows groups and identifiers by name, case-insensitively', async () => {
    const visible = (g, i) => row(g, i).isVisible();
    await page.locator('#filter').fill('ALA');
    assert.equal(await visible('alarms', 'main'), true);
    assert.equal(await visible('alarms', 'siren'), true);
    assert.equal(await page.locator('section[data-group="custom"]').isVisible(), false);
    assert.equal(await page.locator('section[data-group="core"]').isVisible(), false);

    await page.locator('#filter').fill('Replica');
    assert.equal(await visible('custom', 'replica-1'), true);
    assert.equal(await visible('custom', 'main'), false);
    assert.equal(await page.locator('section[data-group="alarms"]').isVisible(), false);
    await expectText(page.locator('#summary'), ['Showing 1 matching'], 1000);

    await page.locator('#filter').fill('no such name');
    assert.equal(await page.locator('#no-match').isVisible(), true);

    await page.locator('#filter').press('Escape');  // clears it
    assert.equal(await page.locator('#filter').inputValue(), '');
    for (const [g, i] of [['core', 'main'], ['custom', 'main'], ['custom', 'replica-1'], ['alarms', 'siren']]) {
      assert.equal(await visible(g, i), true, `${g}/${i} visible again`);
    }
  });

  await t.test('keyboard: the controls are reached with Tab, with a visible focus', async () => {
    await page.locator('#filter').focus();
    const reached = [];
    for (const key of ['Shift+Tab', 'Tab', 'Tab']) {
      await page.keyboard.press(key);
      reached.push(await page.evaluate(() => {
        const e = document.activeElement;
        const style = getComputedStyle(e);
        return { what: e.id || e.className || e.tagName, outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
      }));
    }
    assert.deepEqual(reached.map((r) => r.what), ['skip', 'filter', 'refresh']);
    for (const r of reached) assert.ok(r.outline, `${r.what} shows its focus`);
  });

  await t.test('text and badges meet WCAG AA contrast (4.5:1), in light and dark schemes', async () => {
    for (const colorScheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme });
      const ratios = await page.evaluate(contrastRatios, contrastChecked);
      for (const [selector, ratio] of Object.entries(ratios)) {
        if (ratio === null) continue;  // not on the page in this state
        assert.ok(ratio >= 4.5, `${colorScheme}: ${selector}: contrast ${ratio.toFixed(2)} < 4.5`);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await t.test('losing the server shows the banner; a server back on the same port is followed again', async () => {
    const port = server.port;
    await server.stop();
    await page.locator('#banner').waitFor({ state: 'visible', timeout: 5000 });
    await expectText(page.locator('#banner'), ['Live updates lost — reconnecting…'], 1000);
    await expectText(page.locator('#connection'), ['▲ Reconnecting'], 1000);

    server = await startSrmi(groupsArgs, port);
    await page.locator('#banner').waitFor({ state: 'hidden', timeout: 15000 });
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 5000 });
    // The whole state is read again: the new server starts afresh.
    await expectText(row('custom', 'main'), ['● ready', '1'], 2000);
    await eventually('identifiers of the old server gone', async () => (await row('custom', 'replica-1').count()) === 0, 2000);

    await rpc(server.port, 'sr_set_status', { group: 'alarms', status: -5, details: 'siren test' });
    await expectText(row('alarms', 'main'), ['▲ not ready', '-5', 'siren test'], 1000);
    await rpc(server.port, 'sr_add_report', { group: 'alarms', report: 'siren test started' });
    await expectText(row('alarms', 'main').locator('td.reports'), ['siren test started'], 1000);
  });

  await t.test('a screenshot is kept as an artifact', async () => {
    const file = path.join(artifacts, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    t.diagnostic(`screenshot: ${file}`);
  });

  await t.test('no CSP violation, console error or uncaught exception on the page', (st) => {
    for (const p of pageProblems) st.diagnostic(p);
    // The dropped event stream while the server was down is the one expected error.
    const unexpected = pageProblems.filter((p) => !/\/events\b|ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|net::/.test(p));
    assert.deepEqual(unexpected, []);
  });
});
