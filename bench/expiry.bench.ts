// What stream expiry (`expiresAt`) costs the connection manager, in process, bounded in count.
// Three ways, measured in the same run: no expiry; the registry's one heap under one timer; and
// what it replaces, a setTimeout per stream (cleared when the stream closes first).
//  1. Churn: streams registered and closed before they expire (clients come and go): the
//     best of 3 alternating rounds, so that neither order nor JIT warm-up decides.
//  2. Memory: heap bytes per open stream that waits for its expiry (Bun.gc before each reading).
//  3. Expiring together: N streams whose expiries fall within a window: how late each ends.
import { ConnectionRegistry } from '../src/connections'
import { ResponseStream } from '../src/stream'
import { option } from './support/options'
import { printTable, type Row } from './support/table'

const CHURN = option('churn', 'EXPIRY_CHURN', 50_000)
const OPEN = option('open', 'EXPIRY_OPEN', 20_000)
const EXPIRING = option('expiring', 'EXPIRY_STREAMS', 20_000)
const WINDOW_MS = option('window', 'EXPIRY_WINDOW_MS', 500)

type Variant = 'no expiry' | 'heap (one timer)' | 'setTimeout per stream'
const VARIANTS: Variant[] = ['no expiry', 'heap (one timer)', 'setTimeout per stream']

const registry = () => new ConnectionRegistry({ maxStreams: 0, maxPerAddress: 0 })

/** Opens a registered stream that expires at `at`, the variant's way; `onLate` gets how late it ended. */
function open(r: ConnectionRegistry, variant: Variant, at: number, onLate?: (ms: number) => void): ResponseStream {
	const stream = new ResponseStream({ contentType: 'text/event-stream', heartbeatMs: 0, stallTimeoutMs: 0 })
	const expiresAt = variant === 'heap (one timer)' ? at : undefined
	r.add(stream, { kind: 'sse', route: '/x', topics: [], user: 'u', expiresAt })
	if (variant === 'setTimeout per stream') {
		const timer = setTimeout(() => {
			onLate?.(Date.now() - at)
			stream.close('expired')
		}, at - Date.now())
		stream.onClose(() => clearTimeout(timer))
	}
	return stream
}

function churnMs(variant: Variant): number {
	const r = registry()
	const far = Date.now() + 3_600_000
	const start = performance.now()
	for (let i = 0; i < CHURN; i++) open(r, variant, far + (i % 1000)).close('client')
	return performance.now() - start
}

const best = new Map<Variant, number>()
for (let round = 0; round < 3; round++)
	for (const v of VARIANTS) best.set(v, Math.min(best.get(v) ?? Infinity, churnMs(v)))
const churnRows: Row[] = VARIANTS.map((v) => ({
	name: v,
	values: { 'streams/s': (CHURN / best.get(v)!) * 1000, 'µs per stream': (best.get(v)! * 1000) / CHURN }
}))

const memoryRows: Row[] = []
for (const v of VARIANTS) {
	Bun.gc(true)
	const before = process.memoryUsage().heapUsed
	const r = registry()
	const far = Date.now() + 3_600_000
	const streams = Array.from({ length: OPEN }, (_, i) => open(r, v, far + i))
	Bun.gc(true)
	const perStream = (process.memoryUsage().heapUsed - before) / OPEN
	memoryRows.push({ name: v, values: { 'open streams': OPEN, 'heap bytes per stream': perStream } })
	for (const s of streams) s.close('client')
}

const lateRows: Row[] = []
for (const v of VARIANTS.slice(1)) {
	const r = registry()
	const late: number[] = []
	if (v === 'heap (one timer)') r.onClose((c, reason) => reason === 'expired' && late.push(Date.now() - c.expiresAt!))
	const base = Date.now() + 300
	for (let i = 0; i < EXPIRING; i++) open(r, v, base + ((i * 7919) % WINDOW_MS), (ms) => late.push(ms))
	while (r.count > 0) await Bun.sleep(5)
	late.sort((a, b) => a - b)
	lateRows.push({ name: v, values: { streams: EXPIRING, 'p50 late ms': late[late.length >> 1]!, 'p99 late ms': late[Math.floor(late.length * 0.99)]!, 'max late ms': late.at(-1)! } })
}

printTable(`Churn: ${CHURN.toLocaleString('en-US')} streams registered and closed before their expiry (best of 3)`, churnRows, 'streams/s', ['no expiry', 'setTimeout per stream'])
printTable(`Memory: ${OPEN.toLocaleString('en-US')} open streams waiting for their expiry`, memoryRows, 'heap bytes per stream', ['no expiry', 'setTimeout per stream'])
printTable(`${EXPIRING.toLocaleString('en-US')} streams expiring within ${WINDOW_MS} ms`, lateRows, 'max late ms', ['setTimeout per stream'])
