// The dashboard end to end: the real srmi binary, Debian's Chromium headless
// driven by playwright-core, changes made over JSON-RPC and seen on the page;
// timelines drawn from a day of history with known times; 10 000 groups.
// Run: SRMI_BIN=build/srmi node --test tests/dashboard/dashboard.test.mjs
// Keeps screenshots in $SRMI_ARTIFACTS (default: build/artifacts)/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  eventually, expectText, launchBrowser, repoRoot, rpc, setHistoryTimes, srmiBinary, startSrmi,
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
                         '.reports .log', '#connection', '#refresh', 'td.details .none', 'footer',
                         'button.toggle', '.legend', '.legend .key', '.axis', '.avail', '.avail .value'];

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

// Console errors and uncaught exceptions of `p` go to `problems`.
function watch(p, problems) {
  p.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return p;
}

// The last subtest of a test with a page of its own: nothing went wrong on it.
function checkNoProblems(t, problems) {
  return t.test('no console error or uncaught exception on the page', (st) => {
    for (const p of problems) st.diagnostic(p);
    assert.deepEqual(problems, []);
  });
}

// The end of a test with a page, an srmi and a directory of its own, however it ended.
async function closeAll(tab, srv, dir) {
  if (tab) await tab.close().catch(() => {});
  if (srv) await srv.stop();
  rmSync(dir, { recursive: true, force: true });
}

before(async () => {
  srmiBinary();  // fails early, with the path, when it is missing
  mkdirSync(artifacts, { recursive: true });
  server = await startSrmi(groupsArgs);
  browser = await launchBrowser();
  page = watch(browser.context.pages()[0] ?? await browser.context.newPage(), pageProblems);
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

// --- 10 000 groups -------------------------------------------------------------
test('10 000 groups: first paint under a second, collapsed, the filter narrows, histories read for what is shown',
     { timeout: 60000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'srmi-dashboard-10k-'));
  const names = Array.from({ length: 10000 }, (_, i) => `g${String(i).padStart(5, '0')}`);
  const config = path.join(dir, 'srmi.json');
  writeFileSync(config, JSON.stringify({ groups: names }));
  const problems = [];
  let srv = null;
  let tab = null;
  try {
    srv = await startSrmi(['--config', config]);
    tab = watch(await browser.context.newPage(), problems);
    await tab.bringToFront();
    const histories = [];  // the groups whose history the page asked for
    tab.on('request', (r) => {
      if (!r.url().endsWith('/mi')) return;
      for (const call of [].concat(JSON.parse(r.postData() || '[]'))) {
        if (call.method === 'sr_status_history') histories.push(call.params.group);
      }
    });
    await tab.goto(`http://127.0.0.1:${srv.port}/`);
    // The page's marks: the groups made (the first screenful), painted, and all listed and painted.
    await tab.waitForFunction(() => performance.getEntriesByName('srmi-groups-listed').length > 0, null,
                              { timeout: 15000 });
    const [rendered, painted, listed] = await tab.evaluate(() => ['srmi-groups-rendered', 'srmi-groups-painted',
      'srmi-groups-listed'].map((m) => performance.getEntriesByName(m)[0].startTime));
    t.diagnostic(`10 000 groups, after navigation start: made ${rendered.toFixed(0)} ms, first paint ` +
                 `${painted.toFixed(0)} ms, all listed and painted ${listed.toFixed(0)} ms`);
    assert.ok(painted < 1000, `first paint of 10 000 groups took ${painted.toFixed(0)} ms`);
    assert.ok(listed < 2000, `listing all 10 000 groups took ${listed.toFixed(0)} ms`);

    await t.test('every group is listed, collapsed; no history is read', async () => {
      await expectText(tab.locator('#summary'), ['10001 groups', '10001 identifiers', 'all ready'], 2000);
      assert.equal(await tab.locator('section.group').count(), 10001);
      assert.equal(await tab.locator('button.toggle[aria-expanded="true"]').count(), 0);
      assert.equal(await tab.locator('.timeline').count(), 0);
      await tab.waitForTimeout(200);
      assert.deepEqual(histories, []);
    });

    await t.test('the filter narrows them; a few shown open, their histories read in one batch', async () => {
      const started = Date.now();
      await tab.locator('#filter').fill('g0999');
      await expectText(tab.locator('#summary'), ['Showing 10 matching'], 2000);
      t.diagnostic(`filtered in ${Date.now() - started} ms`);
      assert.equal(await tab.locator('section.group:visible').count(), 10);
      await tab.locator('section[data-group="g09999"] .slice[data-state="ready"]').waitFor({ timeout: 5000 });
      // Whatever is on screen, at most the 10 shown, each once.
      assert.ok(histories.length >= 1 && histories.length <= 10 && new Set(histories).size === histories.length,
                JSON.stringify(histories));
      assert.ok(histories.every((g) => g.startsWith('g0999')), JSON.stringify(histories));

      await tab.locator('#filter').press('Escape');
      await expectText(tab.locator('#summary'), ['10001 groups'], 2000);
      assert.equal(await tab.locator('button.toggle[aria-expanded="true"]').count(), 0, 'collapsed again');
    });

    await t.test('a group opened far down the list is drawn and read alone', async () => {
      const before = histories.length;
      const toggle = tab.locator('section[data-group="g05000"] button.toggle');
      await toggle.focus();
      await tab.keyboard.press('Enter');
      assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
      await tab.locator('section[data-group="g05000"] .slice[data-state="ready"]').waitFor({ timeout: 5000 });
      assert.deepEqual(histories.slice(before), ['g05000']);
      assert.equal(await tab.locator('.timeline').count(), 1 + 10, 'tables only for the groups opened');
    });

    await checkNoProblems(t, problems);
  } finally {
    await closeAll(tab, srv, dir);
  }
});

// --- the timeline ------------------------------------------------------------
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const TOLERANCE = 0.5;  // % of the day (7 min): the page's "now" and the test's differ by seconds

// sr_availability's ratio as the page shows it.
const shown = (ratio) => (ratio == null ? 'n/a' : `${(ratio * 100).toFixed(2)} %`);

// In the page: each slice of a row's timeline with its place in % of the
// track, as set (style) and as drawn (boxes), and its computed colours.
function slicesOf(rowSelector) {
  const track = document.querySelector(`${rowSelector} .timeline`);
  if (!track) return null;
  const box = track.getBoundingClientRect();
  return Array.from(track.querySelectorAll('.slice')).map((s) => {
    const r = s.getBoundingClientRect();
    const style = getComputedStyle(s);
    return {
      state: s.dataset.state, status: s.dataset.status ?? null,
      left: parseFloat(s.style.left), width: parseFloat(s.style.width),
      drawnLeft: (r.left - box.left - track.clientLeft) / track.clientWidth * 100,
      drawnWidth: r.width / track.clientWidth * 100,
      color: style.backgroundColor, image: style.backgroundImage, label: s.getAttribute('aria-label'),
    };
  });
}

// Expected slices of a day ending at `now`: [state, from ms, to ms].
function expectSlices(actual, expected, now, what) {
  const at = (ms) => (ms - (now - DAY)) / DAY * 100;
  assert.deepEqual(actual.map((s) => s.state), expected.map((e) => e[0]), `${what}: states`);
  expected.forEach(([state, from, to], i) => {
    const s = actual[i];
    const [left, width] = [at(Math.max(from, now - DAY)), at(to) - at(Math.max(from, now - DAY))];
    for (const [name, value, want] of [['left', s.left, left], ['width', s.width, width],
                                       ['drawn left', s.drawnLeft, left], ['drawn width', s.drawnWidth, width]]) {
      assert.ok(Math.abs(value - want) <= TOLERANCE,
                `${what}: slice ${i} (${state}) ${name} ${value.toFixed(2)}% where ${want.toFixed(2)}% was expected`);
    }
  });
}

// WCAG AA (4.5:1) for the first element of each of `selectors` in `p`, in
// light and dark schemes; with `present`, each must be on the page.
async function assertContrast(p, selectors, present = true) {
  for (const colorScheme of ['light', 'dark']) {
    await p.emulateMedia({ colorScheme });
    const ratios = await p.evaluate(contrastRatios, selectors);
    for (const [selector, ratio] of Object.entries(ratios)) {
      if (ratio === null && !present) continue;
      assert.notEqual(ratio, null, `${selector} is on the page`);
      assert.ok(ratio >= 4.5, `${colorScheme}: ${selector}: contrast ${ratio.toFixed(2)} < 4.5`);
    }
  }
  await p.emulateMedia({ colorScheme: 'light' });
}

const rgbOf = (css) => (css.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
function luminance([r, g, b]) {
  const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
const contrast = (a, b) => {
  const [x, y] = [luminance(a), luminance(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
};

test('each identifier shows its last 24 hours, its availability and, from the keyboard, its history',
     { timeout: 60000 }, async (t) => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'srmi-dashboard-state-'));
  const args = ['--state-dir', stateDir, '--group', 'timeline'];
  const problems = [];
  let srv = null;
  let tab = null;
  try {
    // The changes, made for real, then dated over the last day while srmi is stopped:
    // main appeared 30 h ago ready, was not ready from 12 h to 6 h ago, ready since;
    // db appeared 20 h ago ready (unknown before), not ready from 8 h to 2 h ago.
    srv = await startSrmi(args);
    const call = (method, params) => rpc(srv.port, method, params);
    await call('sr_add_identifier', { group: 'timeline', identifier: 'db', status: 1 });
    await call('sr_set_status', { group: 'timeline', status: -2, details: 'disk full' });
    await call('sr_set_status', { group: 'timeline', status: 1, details: 'disk cleaned' });
    await call('sr_set_status', { group: 'timeline', identifier: 'db', status: -1, details: 'replica lag' });
    await call('sr_set_status', { group: 'timeline', identifier: 'db', status: 2, details: 'caught up' });
    await call('sr_add_report', { group: 'timeline', report: 'disk cleaned by the nightly job' });
    await srv.stop();
    const T = Date.now();
    setHistoryTimes(stateDir, [
      { group: 'timeline', identifier: 'main', times: [T - 30 * HOUR, T - 12 * HOUR, T - 6 * HOUR] },
      { group: 'timeline', identifier: 'db', times: [T - 20 * HOUR, T - 8 * HOUR, T - 2 * HOUR] },
    ]);
    srv = await startSrmi(args);

    // The server's own view first: the dates took.
    const history = await call('sr_status_history', { group: 'timeline', identifier: 'all' });
    assert.deepEqual(history.map((c) => [c.Identifier, c.Time - T]),
                     [['main', -30 * HOUR], ['db', -20 * HOUR], ['main', -12 * HOUR], ['db', -8 * HOUR],
                      ['main', -6 * HOUR], ['db', -2 * HOUR]]);

    tab = watch(await browser.context.newPage(), problems);
    await tab.bringToFront();  // a page in the background paints no frame
    const requests = [];
    tab.on('request', (r) => { if (r.url().endsWith('/mi')) requests.push(r.postData() || ''); });
    // Time flows as usual until the test moves it. The clock is the whole
    // browser context's: this test comes last.
    await tab.clock.install();
    await tab.goto(`http://127.0.0.1:${srv.port}/`);
    await tab.locator('#connection[data-state="live"]').waitFor({ timeout: 10000 });
    const mainRow = 'tr[data-group="timeline"][data-identifier="main"]';
    const dbRow = 'tr[data-group="timeline"][data-identifier="db"]';
    await tab.locator(`${mainRow} .slice[data-state="not-ready"]`).waitFor({ timeout: 5000 });
    await tab.locator(`${dbRow} .slice[data-state="not-ready"]`).waitFor({ timeout: 5000 });

    await t.test('the slices sit where the changes are, in the colours of their states', async () => {
      const now = Date.now();
      const main = await tab.evaluate(slicesOf, mainRow);
      const db = await tab.evaluate(slicesOf, dbRow);
      expectSlices(main, [['ready', T - 30 * HOUR, T - 12 * HOUR], ['not-ready', T - 12 * HOUR, T - 6 * HOUR],
                          ['ready', T - 6 * HOUR, now]], now, 'main');
      expectSlices(db, [['unknown', now - DAY, T - 20 * HOUR], ['ready', T - 20 * HOUR, T - 8 * HOUR],
                        ['not-ready', T - 8 * HOUR, T - 2 * HOUR], ['ready', T - 2 * HOUR, now]], now, 'db');
      assert.deepEqual(main.map((s) => s.status), ['1', '-2', '1']);
      assert.match(main[1].label, /Not ready, status -2, disk full, from .* to .* \(6 h 0 min\)/);

      for (const colorScheme of ['light', 'dark']) {
        await tab.emulateMedia({ colorScheme });
        const slices = [...await tab.evaluate(slicesOf, mainRow), ...await tab.evaluate(slicesOf, dbRow)];
        const look = {};
        for (const s of slices) {
          look[s.state] ??= { color: s.color, image: s.image };
          assert.deepEqual({ color: s.color, image: s.image }, look[s.state], `${colorScheme}: every ${s.state} slice alike`);
        }
        const legend = await tab.evaluate(() => Object.fromEntries(Array.from(document.querySelectorAll('.legend .swatch'))
          .map((e) => [e.dataset.state, { color: getComputedStyle(e).backgroundColor, image: getComputedStyle(e).backgroundImage }])));
        const page = rgbOf(await tab.evaluate(() => getComputedStyle(document.documentElement).backgroundColor));
        for (const state of ['ready', 'not-ready', 'unknown']) {
          assert.deepEqual(legend[state], look[state], `${colorScheme}: the legend shows ${state} as the slices do`);
        }
        const [ready, bad, unknown] = ['ready', 'not-ready', 'unknown'].map((s) => rgbOf(look[s].color));
        assert.ok(ready[1] > ready[0] && bad[0] > bad[1], `${colorScheme}: ready green, not ready red: ${ready} ${bad}`);
        // More than hue: a pattern of each state's own, and lightness apart.
        assert.equal(look.ready.image, 'none');
        assert.match(look['not-ready'].image, /^repeating-linear-gradient/);
        assert.match(look.unknown.image, /^radial-gradient/);
        for (const [a, b, name] of [[ready, bad, 'ready/not ready'], [ready, unknown, 'ready/unknown'],
                                    [bad, unknown, 'not ready/unknown']]) {
          assert.ok(contrast(a, b) >= 1.8, `${colorScheme}: ${name} lightness contrast ${contrast(a, b).toFixed(2)} < 1.8`);
        }
        for (const [c, name] of [[ready, 'ready'], [bad, 'not ready']]) {
          assert.ok(contrast(c, page) >= 3, `${colorScheme}: ${name} against the page ${contrast(c, page).toFixed(2)} < 3`);
        }
      }
      await assertContrast(tab, contrastChecked, false);
    });

    await t.test('the availability shown is sr_availability\'s', async () => {
      const read = () => tab.evaluate((rows) => rows.map((r) => Object.fromEntries(
        Array.from(document.querySelectorAll(`${r} .avail .window`)).map((w) => [w.dataset.window, w.querySelector('.value').textContent]))),
        [mainRow, dbRow]);
      const before = await call('sr_availability', { group: 'timeline' });
      const onPage = await read();
      const afterwards = await call('sr_availability', { group: 'timeline' });
      ['main', 'db'].forEach((name, i) => {
        const [a, b] = [before, afterwards].map((all) => all.find((x) => x.Name === name));
        for (const w of ['1h', '24h', '7d']) {
          assert.ok([shown(a[w].Availability), shown(b[w].Availability)].includes(onPage[i][w]),
                    `${name} ${w}: page ${onPage[i][w]}, sr_availability ${shown(a[w].Availability)} then ${shown(b[w].Availability)}`);
        }
      });
      // And the method agrees with the scripted day.
      assert.deepEqual(onPage, [{ '24h': '75.00 %', '7d': '80.00 %', '1h': '100.00 %' },
                                { '24h': '70.00 %', '7d': '70.00 %', '1h': '100.00 %' }]);
    });

    await t.test('hovering a slice tells its change and details', async () => {
      await tab.locator(`${mainRow} .slice[data-state="not-ready"]`).hover();
      await expectText(tab.locator('#tip'), ['Not ready', 'status -2', 'disk full', '6 h 0 min'], 1000);
      await assertContrast(tab, ['#tip', '#tip .when', '#tip .hint']);
      await tab.mouse.move(0, 0);
      await tab.locator('#tip').waitFor({ state: 'hidden', timeout: 2000 });
    });

    await t.test('a change on the event stream extends the timeline within a second', async () => {
      const started = Date.now();
      await call('sr_set_status', { group: 'timeline', status: -5, details: 'live outage' });
      const last = tab.locator(`${mainRow} .slice`).last();
      await eventually('the live outage drawn', async () => (await last.getAttribute('data-status')) === '-5', 1000);
      t.diagnostic(`live slice drawn after ${Date.now() - started} ms`);
      // Not ready for at least 0.5 s, which the last hour's availability shows (99.99 % or less).
      await new Promise((resolve) => { setTimeout(resolve, Math.max(0, started + 500 - Date.now())); });
      await call('sr_set_status', { group: 'timeline', status: 1, details: 'recovered' });
      await eventually('the recovery drawn', async () => (await last.getAttribute('data-status')) === '1', 1000);
      const now = Date.now();
      const main = await tab.evaluate(slicesOf, mainRow);
      assert.deepEqual(main.map((s) => s.state), ['ready', 'not-ready', 'ready', 'not-ready', 'ready']);
      assert.ok(main[3].left > 99.9 && main[3].left <= 100, `the outage starts at now: ${main[3].left}`);
      expectSlices(main.slice(0, 3), [['ready', T - 30 * HOUR, T - 12 * HOUR], ['not-ready', T - 12 * HOUR, T - 6 * HOUR],
                                      ['ready', T - 6 * HOUR, now]], now, 'main before the outage');
      // The availability is read again after the change: the last hour now has the outage.
      await eventually('the availability of the last hour read again', async () => {
        const [page, method] = await Promise.all([
          tab.locator(`${mainRow} .avail [data-window="1h"] .value`).textContent(),
          call('sr_availability', { group: 'timeline', identifier: 'main' })]);
        return page !== '100.00 %' && page === shown(method['1h'].Availability);
      }, 3000);
    });

    await t.test('keyboard only: Tab reaches a row\'s timeline, arrows its changes, Enter its history; Escape returns', async () => {
      await tab.locator('#filter').focus();
      await tab.keyboard.type('timeline');
      let tabs = 0;
      const focused = () => tab.evaluate(() => {
        const e = document.activeElement;
        const row = e.closest('tr');
        return { slice: e.classList.contains('slice'), row: row && row.dataset.identifier, state: e.dataset.state,
                 status: e.dataset.status, outline: getComputedStyle(e).outlineStyle !== 'none' };
      });
      for (;;) {
        await tab.keyboard.press('Tab');
        ++tabs;
        const f = await focused();
        if (f.slice && f.row === 'main') break;
        assert.ok(tabs < 6, `main's timeline not reached in ${tabs} Tabs`);
      }
      t.diagnostic(`main's timeline reached with ${tabs} Tabs from the filter`);
      let f = await focused();
      assert.deepEqual([f.state, f.status, f.outline], ['ready', '1', true], 'the timeline is entered at now');
      await tab.keyboard.press('Home');
      await tab.keyboard.press('ArrowRight');
      f = await focused();
      assert.deepEqual([f.state, f.status], ['not-ready', '-2']);
      await expectText(tab.locator('#tip'), ['Not ready', 'disk full'], 1000);

      await tab.keyboard.press('Enter');
      const dialog = tab.locator('dialog#history');
      await dialog.waitFor({ state: 'visible', timeout: 1000 });
      await expectText(dialog, ['timeline / main', 'disk cleaned by the nightly job'], 2000);
      const rows = await dialog.locator('#history-changes tbody tr').evaluateAll((trs) => trs.map((tr) => ({
        time: Number(tr.dataset.time), text: tr.innerText, at: tr.classList.contains('at') })));
      assert.deepEqual(rows.map((r) => /recovered|live outage|disk cleaned|disk full|appeared/.exec(r.text)?.[0]),
                       ['recovered', 'live outage', 'disk cleaned', 'disk full', 'appeared'], 'newest first');
      for (let i = 1; i < rows.length; ++i) assert.ok(rows[i - 1].time >= rows[i].time, 'times newest first');
      assert.deepEqual(rows.map((r) => r.at), [false, false, false, true, false], 'the change opened is marked');
      assert.equal(rows[3].time, T - 12 * HOUR);
      await expectText(dialog.locator('#history-avail'), ['24 h', '7 d', '1 h'], 1000);
      await assertContrast(tab, ['#history .head h2', '#history-close', '#history-note', '#history thead th',
                                 '#history td.when', '#history tr.at td', '#history-avail', '#history-avail .value',
                                 '#history-reports .log']);

      await tab.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden', timeout: 1000 });
      f = await focused();
      assert.deepEqual([f.slice, f.row, f.status], [true, 'main', '-2'], 'focus back on the slice');

      // Space opens it too; the dialog's Close button closes it.
      await tab.keyboard.press('Space');
      await dialog.waitFor({ state: 'visible', timeout: 1000 });
      assert.equal(await tab.evaluate(() => document.activeElement.id), 'history-close');
      await tab.keyboard.press('Enter');
      await dialog.waitFor({ state: 'hidden', timeout: 1000 });
      await tab.locator('#filter').fill('');
    });

    await t.test('the now edge moves with the clock, without asking the server', async () => {
      const asked = requests.length;
      const left = async () => (await tab.evaluate(slicesOf, mainRow))[2].left;
      const was = await left();
      await tab.clock.fastForward('01:00:00');
      await eventually('the day moved one hour on', async () => Math.abs(was - await left() - 100 / 24) <= TOLERANCE, 2000);
      assert.equal(requests.length, asked, `no request to /mi: ${requests.slice(asked).join('\n')}`);
    });

    await t.test('a screenshot with timelines is kept as an artifact', async () => {
      await tab.screenshot({ path: path.join(artifacts, 'dashboard-timeline.png'), fullPage: true });
    });

    await checkNoProblems(t, problems);
  } finally {
    await closeAll(tab, srv, stateDir);
  }
});
