// onnxruntime-web (wasm) in headless Chromium behind onnxproof's line protocol.
//
// Every request of the page is answered from disk by page.route() under http://localhost:9:
// no port is opened, and localhost is a trustworthy origin, so the COOP/COEP headers take effect
// (file:// cannot import the ORT module at all). Tensors cross into the page as base64 strings.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { argument, fatal, load, message, serve } = require('./protocol.js');

const ORIGIN = 'http://localhost:9';
const cacheDir = argument('cache');
const chromiumPath = argument('chromium');
const { chromium } = load(cacheDir, 'playwright-core');

const TYPES = {
  '.html': 'text/html',
  '.mjs': 'text/javascript',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};
const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cache-Control': 'no-store',
};

let browser = null;
let page = null;
let modelDir = null;
let pageError = null;

// URL path → file: the page, the npm packages, and the model's own folder (for external data).
function fileFor(urlPath) {
  const roots = [
    ['/page.html', path.join(__dirname, 'page.html'), true],
    ['/node_modules/', path.join(cacheDir, 'node_modules'), false],
    ['/model/', modelDir, false],
  ];
  for (const [prefix, root, exact] of roots) {
    if (exact ? urlPath === prefix : urlPath.startsWith(prefix)) {
      if (exact) return root;
      if (!root) return null;
      const file = path.resolve(root, decodeURIComponent(urlPath.slice(prefix.length)));
      return file.startsWith(root + path.sep) ? file : null;
    }
  }
  return null;
}

async function answer(route) {
  const url = new URL(route.request().url());
  const file = url.origin === ORIGIN ? fileFor(url.pathname) : null;
  if (!file || !fs.existsSync(file)) {
    await route.fulfill({ status: 404, headers: HEADERS, body: `not found: ${url.pathname}` });
    return;
  }
  const type = TYPES[path.extname(file)] || 'application/octet-stream';
  await route.fulfill({ path: file, headers: { ...HEADERS, 'Content-Type': type } });
}

// A dead page answers every later request with why it died, rather than hanging.
async function inPage(fn, arg) {
  if (pageError) throw new Error(pageError);
  try {
    return await page.evaluate(fn, arg);
  } catch (error) {
    if (pageError) throw new Error(pageError);
    throw new Error(message(error).replace(/^page\.evaluate: (Error: )?/, ''));
  }
}

const handlers = {
  async load(request) {
    modelDir = path.dirname(path.resolve(request.model));
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-proxy-server'],
    });
    page = await browser.newPage();
    page.on('crash', () => {
      pageError = 'the browser page crashed';
    });
    page.on('console', (line) => console.error(`[page] ${line.text()}`));
    await page.route('**/*', answer);
    await page.goto(`${ORIGIN}/page.html`);
    await page.waitForFunction(() => window.ortReady === true || window.ortFailed);
    const failed = await page.evaluate(() => window.ortFailed);
    if (failed) throw new Error(`the ONNX Runtime page did not start: ${failed}`);
    const url = `/model/${encodeURIComponent(path.basename(request.model))}`;
    const info = await inPage(([u, ext]) => window.ortLoad(u, ext), [url, request.external || []]);
    return {
      inputs: info.inputs,
      outputs: info.outputs,
      details: {
        package: `onnxruntime-web ${info.version}`,
        browser: `Chromium ${browser.version()} (headless)`,
        backend: `wasm, ${info.threads} thread(s), cross-origin isolated: ${info.isolated}`,
        node: process.version,
      },
    };
  },
  async run(request) {
    if (!page) throw new Error('no model is loaded');
    return { outputs: await inPage((feeds) => window.ortRun(feeds), request.feeds) };
  },
  async time(request) {
    if (!page) throw new Error('no model is loaded');
    const { feeds, warmup, iterations, budgetMs } = request;
    const times = await inPage(
      ([f, options]) => window.ortTime(f, options),
      [feeds, { warmup, iterations, budgetMs }],
    );
    return { times_ms: times };
  },
  async close() {
    return {};
  },
};

serve(handlers, async () => {
  if (browser) await browser.close();
}).catch(async (error) => {
  if (browser) await browser.close().catch(() => {});
  fatal(error);
});
