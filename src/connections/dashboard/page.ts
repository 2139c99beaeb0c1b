// The dashboard's page and its script. The script is bundled from the package's own source
// (browser/main.ts and sluice/client) on the first request and kept: nothing built is
// shipped, and nothing is loaded from another origin.

let script: Promise<string> | undefined

/** The page's script, bundled for the browser once per process. A failed build is tried again on the next request. */
export function dashboardScript(): Promise<string> {
	script ??= Bun.build({ entrypoints: [`${import.meta.dir}/browser/main.ts`], target: 'browser', format: 'esm', minify: true }).then(
		async (built) => {
			if (!built.success) throw new AggregateError(built.logs, 'bundling the dashboard for the browser failed')
			return built.outputs[0]!.text()
		}
	)
	script.catch(() => (script = undefined))
	return script
}

/** Headers of the page: no script, style or connection from another origin, no framing, no referrer (the URL may carry ?token=). */
export const PAGE_HEADERS = {
	'content-type': 'text/html; charset=utf-8',
	'cache-control': 'no-store',
	'referrer-policy': 'no-referrer',
	'x-frame-options': 'DENY',
	'content-security-policy':
		"default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

const attr = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')

/** The page: its layout and styles; browser/main.ts fills it from the data stream. */
export function dashboardHtml(base: string, pageToken: string): string {
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="sluice-dashboard" data-base="${attr(base)}" data-token="${attr(pageToken)}">
<title>Sluice connections</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330 }
header { display: flex; gap: 16px; align-items: baseline; padding: 10px 18px; background: #1d2330; color: #fff }
header h1 { font-size: 16px; margin: 0 }
#status { font-weight: 600 } #status.live { color: #6fdc8c } #status.down, #status.draining { color: #ffb454 }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; padding: 12px 18px }
section { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 10px 12px; overflow: auto }
section.wide { grid-column: 1 / -1 }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: #5a6478; margin: 0 0 8px }
table { border-collapse: collapse; width: 100% }
td, th { text-align: left; padding: 3px 8px 3px 0; border-bottom: 1px solid #eef0f4; white-space: nowrap }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums }
.big { font-size: 28px; font-weight: 600 }
.muted { color: #7a8499 } .bad { color: #c0392b; font-weight: 600 }
.rates { display: grid; grid-template-columns: repeat(2, 1fr); gap: 8px }
.rates canvas { width: 100%; height: 60px; background: #fafbfc; border: 1px solid #eef0f4 }
button { font: inherit; padding: 1px 8px; cursor: pointer }
#pager { display: flex; gap: 8px; align-items: center; margin-bottom: 6px }
td.ua { max-width: 260px; overflow: hidden; text-overflow: ellipsis }
</style>
</head>
<body>
<header><h1>Sluice connections</h1><span id="status">connecting</span><span id="process" class="muted"></span></header>
<main>
<section><h2>Open streams</h2><div class="big" id="total">0</div><table id="kinds"></table></section>
<section><h2>By route</h2><table id="routes"></table></section>
<section><h2>Topics</h2><table id="topics"></table><div id="topics-more" class="muted"></div></section>
<section class="wide"><h2>Rates (per second, last minutes)</h2><div class="rates">
<div>opened <b id="rate-opened">0</b><canvas id="chart-opened" width="600" height="60"></canvas></div>
<div>closed <b id="rate-closed">0</b><canvas id="chart-closed" width="600" height="60"></canvas></div>
<div>events sent <b id="rate-events">0</b><canvas id="chart-events" width="600" height="60"></canvas></div>
<div>bytes sent <b id="rate-bytes">0</b><canvas id="chart-bytes" width="600" height="60"></canvas></div>
</div></section>
<section class="wide"><h2>Trouble</h2><table id="trouble"></table></section>
<section class="wide"><h2>Processes</h2><table id="processes"></table></section>
<section class="wide"><h2>Connections (this process)</h2>
<div id="pager"><button id="prev">&larr; prev</button><span id="range">0 of 0</span><button id="next">next &rarr;</button></div>
<table id="connections"></table></section>
</main>
<script type="module" src="${attr(base)}/app.js"></script>
</body>
</html>
`
}
