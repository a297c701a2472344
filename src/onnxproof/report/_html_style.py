"""The HTML report's stylesheet: light, dark, phone and print, all inline (no font downloads:
system fonts only)."""

from __future__ import annotations

STYLE = """
:root{--fg:#1b1f24;--muted:#59636e;--bg:#fff;--panel:#f6f8fa;--line:#d1d9e0;
--ok:#1a7f37;--ok-bar:#54a37a;--fail:#cf222e;--fail-bg:#ffebe9;--warn:#9a6700;--warn-bg:#fff8c5;
--info:#0969da;--over-bar:#e5534b;--first-bar:#a40e26;--pass-bg:#dafbe1}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;
--panel:#151b23;--line:#3d444d;--ok:#3fb950;--ok-bar:#2f8a5b;--fail:#f85149;--fail-bg:#3c1618;
--warn:#d29922;--warn-bg:#3a2d0f;--info:#4493f8;--over-bar:#f0605a;--first-bar:#ff9492;
--pass-bg:#12311d}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1080px;margin:0 auto;padding:16px}
h2{font-size:1.2rem;margin:1.6rem 0 .6rem;padding-bottom:.25rem;border-bottom:1px solid var(--line)}
h3{font-size:1rem;margin:1.1rem 0 .4rem}
p{margin:.4rem 0}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--panel);
padding:0 .25em;border-radius:4px}
p,li,td,dd,dt,code,.message{overflow-wrap:anywhere}
.muted{color:var(--muted)}
.verdict{border-radius:8px;padding:12px 16px;border:2px solid var(--line);background:var(--panel)}
.verdict.pass{border-color:var(--ok);background:var(--pass-bg)}
.verdict.fail{border-color:var(--fail);background:var(--fail-bg)}
.verdict.error{border-color:var(--warn);background:var(--warn-bg)}
.verdict-line{font-size:1.35rem;font-weight:700;margin:0}
.verdict.pass .verdict-line{color:var(--ok)}
.verdict.fail .verdict-line{color:var(--fail)}
.verdict.error .verdict-line{color:var(--warn)}
.reason{font-weight:600}
.steps{display:flex;flex-wrap:wrap;gap:6px}
.tally{color:var(--muted);font-size:.9rem}
.badge{display:inline-block;white-space:nowrap;font-size:.8rem;font-weight:600;padding:0 .5em;
border-radius:999px;border:1px solid currentColor}
.badge.pass{color:var(--ok)}.badge.fail{color:var(--fail)}.badge.error{color:var(--warn)}
.badge.not-run,.badge.skipped{color:var(--muted)}
table.rows{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.9rem}
table.rows th,table.rows td{border-bottom:1px solid var(--line);padding:.3rem .5rem;
text-align:left;vertical-align:top}
table.rows th{background:var(--panel);font-weight:600}
table.rows .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
dl.pairs{display:grid;grid-template-columns:minmax(0,1fr);gap:0;margin:.5rem 0}
dl.pairs div{display:grid;grid-template-columns:10rem minmax(0,1fr);gap:.75rem;
border-bottom:1px solid var(--line);padding:.2rem 0}
dl.pairs dt{color:var(--muted)}dl.pairs dd{margin:0}
.finding{border-left:4px solid var(--line);background:var(--panel);padding:.5rem .75rem;
margin:.6rem 0;border-radius:0 6px 6px 0}
.finding.error{border-left-color:var(--fail)}.finding.warning{border-left-color:var(--warn)}
.finding.info{border-left-color:var(--info)}
.finding-head{font-weight:600}
.severity{text-transform:uppercase;font-size:.75rem;letter-spacing:.04em}
.finding.error .severity{color:var(--fail)}.finding.warning .severity{color:var(--warn)}
.finding.info .severity{color:var(--info)}
.about{color:var(--muted);font-size:.9rem}
figure{margin:.8rem 0;max-width:640px}
figcaption{color:var(--muted);font-size:.85rem}
svg.chart{display:block;width:100%;height:auto;font-family:inherit}
svg .axis,svg .tick{stroke:var(--muted);stroke-width:1}
svg text{fill:var(--fg)}svg text.muted{fill:var(--muted)}
svg .bar.ok{fill:var(--ok-bar)}svg .bar.over{fill:var(--over-bar)}
svg .bar.first{fill:var(--first-bar)}
svg .tolerance{stroke:var(--fail);stroke-width:1.5;stroke-dasharray:4 3}
svg .tolerance-label{fill:var(--fail);font-weight:600}
svg .first-label{fill:var(--fail);font-weight:700}
ul.cases{padding-left:1.2rem}
footer{margin-top:2rem;border-top:1px solid var(--line);font-size:.85rem}
@media (max-width:640px){
main{padding:10px}
body{font-size:14px}
.verdict-line{font-size:1.15rem}
table.rows thead{display:none}
table.rows,table.rows tbody,table.rows tr,table.rows td{display:block;width:100%}
table.rows tr{border:1px solid var(--line);border-radius:6px;margin:0 0 .5rem;padding:.25rem .5rem}
table.rows td{border:0;padding:.1rem 0}
table.rows .num{text-align:left;white-space:normal}
table.rows td::before{content:attr(data-label);display:inline-block;min-width:7rem;
color:var(--muted);font-weight:600}
table.rows td[data-label=""]::before{content:none}
dl.pairs div{grid-template-columns:minmax(0,1fr);gap:0}
}
@media print{
:root{--fg:#000;--muted:#444;--bg:#fff;--panel:#fff}
body{font-size:11pt}
main{max-width:none;padding:0}
.verdict{background:#fff!important}
section,figure,.finding,table.rows tr{break-inside:avoid}
h2{break-after:avoid}
code{background:none;padding:0}
}
"""
