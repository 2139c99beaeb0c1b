import type { CloseReason } from '../stream'
import type { Refusal } from './limits'
import { formatMetrics, type MetricFamily } from './metrics'
import { STREAM_KINDS as KINDS, type StreamKind } from './types'
import type { Tally } from './tally'

/** What the registry knows, for its metrics. */
export interface RegistryStats {
	open: number
	openByRoute: Tally
	opened: number
	closed(reason: CloseReason): number
	closeReasons: CloseReason[]
	refused(reason: Refusal['reason']): number
	/** Events or bytes sent by streams of `kind`, ended and live. */
	sent(what: 'events' | 'bytes', kind: StreamKind): number
}

const REFUSALS: Refusal['reason'][] = ['max-streams', 'max-per-address', 'draining']

/** The registry's metric families, as Prometheus text. Every label set is bounded (kinds, reasons, route patterns). */
export function connectionMetrics(stats: RegistryStats): string {
	const families: MetricFamily[] = [
		{ name: 'sluice_open_streams', help: 'Streams open now.', type: 'gauge', samples: [{ value: stats.open }] },
		{
			name: 'sluice_open_streams_by_route',
			help: 'Streams open now, by route.',
			type: 'gauge',
			samples: [...stats.openByRoute.entries()].map(([route, value]) => ({ labels: { route }, value }))
		},
		{ name: 'sluice_streams_opened_total', help: 'Streams opened.', type: 'counter', samples: [{ value: stats.opened }] },
		{
			name: 'sluice_streams_closed_total',
			help: 'Streams ended, by reason.',
			type: 'counter',
			samples: stats.closeReasons.map((reason) => ({ labels: { reason }, value: stats.closed(reason) }))
		},
		{
			name: 'sluice_slow_consumer_disconnects_total',
			help: 'Streams closed because the client read too slowly.',
			type: 'counter',
			samples: [{ value: stats.closed('slow') }]
		},
		{
			name: 'sluice_streams_refused_total',
			help: 'Streams refused before opening (503 or 429), by reason.',
			type: 'counter',
			samples: REFUSALS.map((reason) => ({ labels: { reason }, value: stats.refused(reason) }))
		},
		{
			name: 'sluice_events_sent_total',
			help: 'Events (SSE frames, NDJSON records) sent, by kind of stream.',
			type: 'counter',
			samples: KINDS.map((kind) => ({ labels: { kind }, value: stats.sent('events', kind) }))
		},
		{
			name: 'sluice_bytes_sent_total',
			help: 'Bytes handed to sockets, by kind of stream.',
			type: 'counter',
			samples: KINDS.map((kind) => ({ labels: { kind }, value: stats.sent('bytes', kind) }))
		}
	]
	return formatMetrics(families)
}
