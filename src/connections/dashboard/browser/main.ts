// The dashboard page's script (bundled by page.ts). It reads the dashboard's data stream with
// sluice/client's connect() and writes text into the page (never markup from the data).
import { connect } from '../../../client/connect'
import type { ConnectionWire, ConnectionsPage, CountsWire, DashboardSummary, RateSample } from '../wire'

const meta = document.querySelector<HTMLMetaElement>('meta[name="sluice-dashboard"]')!
const base = meta.dataset.base!
const pageToken = meta.dataset.token!
const $ = (id: string) => document.getElementById(id)!
const PAGE_SIZE = 50
const RATES = ['opened', 'closed', 'events', 'bytes'] as const
let offset = 0
let total = 0
let samples: RateSample[] = []
let reader: ReturnType<typeof connect> | undefined

type Cell = string | number | Node
function row(cells: Cell[], numeric: number[] = [], tag: 'td' | 'th' = 'td'): HTMLTableRowElement {
	const tr = document.createElement('tr')
	cells.forEach((cell, i) => {
		const td = document.createElement(tag)
		if (cell instanceof Node) td.append(cell)
		else td.textContent = String(cell)
		if (numeric.includes(i)) td.className = 'n'
		tr.append(td)
	})
	return tr
}
function fill(id: string, head: Cell[], rows: HTMLTableRowElement[], numeric: number[] = []): void {
	$(id).replaceChildren(row(head, numeric, 'th'), ...rows)
}
const format = (n: number) => (n >= 100 || Number.isInteger(n) ? Math.round(n).toLocaleString('en') : n.toFixed(1))
const bytes = (n: number) =>
	n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${Math.round(n)} B`
const age = (since: number) => {
	const s = Math.max(0, Math.round((Date.now() - since) / 1000))
	return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
}
const time = (at: number) => new Date(at).toLocaleTimeString('en-GB')
const sorted = (counts: Record<string, number>) => Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))

function setStatus(text: string, kind: 'live' | 'down' | 'draining'): void {
	const status = $('status')
	status.textContent = text
	status.className = kind
}

function showCounts(counts: CountsWire, cluster: CountsWire | undefined, topicCount: number, subscriptions: number): void {
	$('total').textContent = String(counts.total)
	const kinds = ['sse', 'ndjson', 'file', 'stream'].map((k) => row([k, counts.byKind[k] ?? 0], [1]))
	fill('kinds', ['kind', 'open'], [...kinds, row(['subscriptions (to topics)', subscriptions], [1])], [1])
	fill('routes', ['route', 'open'], sorted(counts.byRoute).map(([r, n]) => row([r, n], [1])), [1])
	const topics = sorted(cluster?.byTopic ?? counts.byTopic)
	for (const name of Object.keys(counts.byTopic)) if (!topics.some(([t]) => t === name)) topics.push([name, 0])
	fill(
		'topics',
		cluster ? ['topic', 'subscribers here', 'in the cluster'] : ['topic', 'subscribers'],
		topics.map(([t, n]) => row(cluster ? [t, counts.byTopic[t] ?? 0, n] : [t, counts.byTopic[t] ?? 0], [1, 2])),
		[1, 2]
	)
	const shown = Object.keys(cluster?.byTopic ?? counts.byTopic).length
	$('topics-more').textContent = topicCount > shown ? `the busiest ${shown} of ${topicCount} topics` : ''
}

function showTrouble(summary: DashboardSummary): void {
	const rows = Object.entries(summary.trouble.counts).map(([kind, count]) => {
		const recent = summary.trouble.recent[kind] ?? []
		const last = recent.map((t) => `${time(t.at)} ${t.route ?? ''}${t.count > 1 ? ` (${t.count})` : ''}`).join(' · ')
		const tr = row([kind, count, last], [1])
		if (count > 0) tr.cells[1]!.classList.add('bad')
		tr.cells[0]!.dataset.kind = kind
		return tr
	})
	fill('trouble', ['trouble', 'count', 'last (time, route)'], rows, [1])
}

function showProcesses(summary: DashboardSummary): void {
	const rows = summary.processes.map((p) =>
		row(
			[
				p.self ? `${p.id} (this one)` : p.id,
				p.total,
				sorted(p.byKind).map(([k, n]) => `${k} ${n}`).join(', '),
				p.draining ? 'draining' : 'serving',
				p.self ? 'now' : `${age(p.lastSeen)} ago`
			],
			[1]
		)
	)
	const c = summary.cluster
	if (c && summary.processes.length > 1) rows.push(row(['cluster total', c.total, sorted(c.byKind).map(([k, n]) => `${k} ${n}`).join(', '), '', ''], [1]))
	fill('processes', ['process', 'open', 'by kind', 'state', 'last seen'], rows, [1])
}

function drawChart(key: (typeof RATES)[number]): void {
	const canvas = $(`chart-${key}`) as HTMLCanvasElement
	const g = canvas.getContext('2d')!
	const { width, height } = canvas
	g.clearRect(0, 0, width, height)
	const values = samples.map((s) => s[key])
	const max = Math.max(1, ...values)
	// The last 300 seconds, newest on the right, each series on its own scale: an area under a line.
	const step = width / 299
	const start = width - (values.length - 1) * step
	const y = (v: number) => height - 2 - (v / max) * (height - 6)
	g.beginPath()
	values.forEach((v, i) => (i === 0 ? g.moveTo(start, y(v)) : g.lineTo(start + i * step, y(v))))
	g.strokeStyle = '#3b7ddd'
	g.lineWidth = 2
	g.stroke()
	if (values.length) {
		g.lineTo(width, height)
		g.lineTo(start, height)
		g.fillStyle = 'rgba(59, 125, 221, 0.15)'
		g.fill()
	}
	canvas.dataset.points = String(values.length)
	const last = samples[samples.length - 1]
	$(`rate-${key}`).textContent = last ? (key === 'bytes' ? `${bytes(last.bytes)}/s` : format(last[key])) : '0'
}

function addSample(sample: RateSample | undefined): void {
	if (!sample || samples[samples.length - 1]?.at === sample.at) return
	samples.push(sample)
	if (samples.length > 300) samples.shift()
	for (const key of RATES) drawChart(key)
}

async function closeConnection(id: number, button: HTMLButtonElement): Promise<void> {
	button.disabled = true
	const answer = await fetch(`${base}/close/${id}`, { method: 'POST', headers: { 'x-sluice-csrf': pageToken } })
	button.textContent = answer.ok ? 'closed' : `failed (${answer.status})`
}

function showConnections(page: ConnectionsPage): void {
	total = page.total
	// The rows of the last page left meanwhile: show the page that now is the last.
	if (page.rows.length === 0 && page.offset > 0) {
		offset = Math.max(0, Math.ceil(total / PAGE_SIZE) - 1) * PAGE_SIZE
		void read()
		return
	}
	const rows = page.rows.map((c: ConnectionWire) => {
		const button = document.createElement('button')
		button.textContent = 'close'
		button.onclick = () => void closeConnection(c.id, button)
		const tr = row(
			[c.id, c.kind, c.route, c.topics.join(', '), c.address ?? '', c.userAgent ?? '', age(c.startedAt), bytes(c.bytesSent), bytes(c.unsentBytes), button],
			[0, 6, 7, 8]
		)
		tr.dataset.id = String(c.id)
		tr.cells[5]!.className = 'ua'
		return tr
	})
	fill('connections', ['id', 'kind', 'route', 'topics', 'address', 'user agent', 'age', 'sent', 'queued', ''], rows, [0, 6, 7, 8])
	const last = Math.min(total, page.offset + page.rows.length)
	$('range').textContent = total ? `${page.offset + 1}-${last} of ${total}` : '0 of 0'
	;($('prev') as HTMLButtonElement).disabled = page.offset === 0
	;($('next') as HTMLButtonElement).disabled = last >= total
}

async function read(): Promise<void> {
	reader?.close()
	const own = (reader = connect(`${base}/feed?offset=${offset}&limit=${PAGE_SIZE}`, {
		retryMs: 1000,
		onOpen: () => setStatus('live', 'live'),
		onReconnect: () => setStatus('reconnecting', 'down')
	}))
	try {
		for await (const message of own) {
			if (message.event === 'rates') {
				samples = JSON.parse(message.data)
				for (const key of RATES) drawChart(key)
			} else if (message.event === 'summary') {
				const summary: DashboardSummary = JSON.parse(message.data)
				$('process').textContent = summary.processId
				// One process: the cluster's counts are its own, no column of their own.
				showCounts(summary.counts, summary.processes.length > 1 ? summary.cluster : undefined, summary.topicCount, summary.subscriptions)
				showTrouble(summary)
				showProcesses(summary)
				addSample(summary.rate)
				if (summary.draining) setStatus('draining: the server is stopping', 'draining')
			} else if (message.event === 'connections') showConnections(JSON.parse(message.data))
			else if (message.event === 'shutdown') setStatus('draining: the server is stopping', 'draining')
		}
	} catch (error) {
		if (own === reader) setStatus(`stopped: ${error instanceof Error ? error.message : error}`, 'down')
	}
}

$('prev').onclick = () => {
	offset = Math.max(0, offset - PAGE_SIZE)
	void read()
}
$('next').onclick = () => {
	if (offset + PAGE_SIZE < total) offset += PAGE_SIZE
	void read()
}
document.documentElement.dataset.sseClient = 'sluice/client'
void read()
