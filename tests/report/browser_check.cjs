// Opens HTML reports in headless Chromium (playwright-core, the system browser) and prints, as
// one JSON object, what a person would see: every request the page made, the verdict text, the
// charts present, elements wider than the viewport, and screenshots at 1280 and 390 px.
// Usage: node browser_check.cjs CHROMIUM OUT_DIR NAME=FILE.html [NAME=FILE.html ...]
const { chromium } = require("playwright-core");
const path = require("path");
const { pathToFileURL } = require("url");

async function inspect(browser, name, file, width, outDir) {
  const url = pathToFileURL(path.resolve(file)).href;
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const requests = [];
  page.on("request", (request) => {
    if (request.url() !== url) requests.push(request.url());
  });
  await page.goto(url, { waitUntil: "load" });
  const seen = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide = [];
    for (const el of document.querySelectorAll("body *")) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      if (box.right > width + 0.5 || box.left < -0.5) {
        const cls = typeof el.className === "string" ? el.className : el.className.baseVal;
        wide.push(`${el.tagName.toLowerCase()}.${cls} right=${Math.round(box.right)}`);
      }
    }
    const count = (selector) => document.querySelectorAll(selector).length;
    return {
      viewport: width,
      scrollWidth: document.documentElement.scrollWidth,
      wide: wide.slice(0, 20),
      verdict: (document.querySelector("#verdict") || {}).textContent || null,
      text: document.body.innerText,
      histograms: count("svg.histogram"),
      histogramBars: count("svg.histogram rect.bar"),
      trails: count("svg.trail"),
      trailBars: count("svg.trail rect.bar"),
      firstDivergentBars: count("svg.trail rect.bar.first"),
      toleranceLines: count("svg line.tolerance"),
    };
  });
  const shot = path.join(outDir, `${name}-${width}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  let pdf = null;
  if (width === 1280) {
    await page.emulateMedia({ media: "print" });
    pdf = path.join(outDir, `${name}.pdf`);
    await page.pdf({ path: pdf, format: "A4" });
  }
  await context.close();
  return { ...seen, requests, screenshot: shot, pdf };
}

(async () => {
  const [executablePath, outDir, ...pages] = process.argv.slice(2);
  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
  const result = {};
  try {
    for (const spec of pages) {
      const [name, file] = spec.split("=");
      result[name] = {};
      for (const width of [1280, 390]) {
        result[name][width] = await inspect(browser, name, file, width, outDir);
      }
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result));
})().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
