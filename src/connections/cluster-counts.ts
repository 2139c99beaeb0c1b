import type { Frame, Replay, ReplayPage, Transport } from '../hub/transport'
import { changeListener, type ConnectionCounts, type ConnectionRegistry } from './registry'

// Keys the registry's counts travel under, beside the hub's `topic:<name>`.
const TOTAL = 'connections:total'
const ROUTE = 'connections:route:'
const KIND = 'connections:kind:'
const TOPIC = 'connections:topic:'

/**
 * Wraps `transport` so the counts it shares with the other processes carry
 * this process's connection counts (total, by route, kind and topic) beside
 * the hub's own: with a transport that spans processes (redis), the
 * connection manager's counts can then be summed over the cluster. Addresses
 * are not shared. Changes are written at most once per turn of the event loop:
 * a burst of connections (many in one turn) costs one write, not one each.
 */
export function shareConnectionCounts(transport: Transport, registry: Pick<ConnectionRegistry, 'counts' | 'onOpen' | 'onClose'>): Transport {
	let hubCounts: Record<string, number> = {}
	let scheduled = false
	let closed = false
	const write = () => {
		scheduled = false
		if (closed) return
		const { total, byRoute, byKind, byTopic } = registry.counts({ addresses: false })
		const counts: Record<string, number> = { ...hubCounts, [TOTAL]: total }
		for (const [route, n] of Object.entries(byRoute)) counts[ROUTE + route] = n
		for (const [kind, n] of Object.entries(byKind)) counts[KIND + kind] = n
		for (const [topic, n] of Object.entries(byTopic)) counts[TOPIC + topic] = n
		transport.setCounts(counts)
	}
	const changed = changeListener(() => {
		if (scheduled) return
		scheduled = true
		setImmediate(write)
	})
	const offOpen = registry.onOpen(changed)
	const offClose = registry.onClose(changed)
	changed()
	return {
		publish: (topic: string, body: Uint8Array): Promise<Frame> => transport.publish(topic, body),
		listen: (topic: string, onFrame: (frame: Frame) => void) => transport.listen(topic, onFrame),
		replay: (topic: string, afterId: string | undefined, last?: number, page?: ReplayPage): Promise<Replay> =>
			transport.replay(topic, afterId, last, page),
		setCounts(counts: Record<string, number>) {
			hubCounts = counts
			changed()
		},
		clusterCounts: () => transport.clusterCounts(),
		control: transport.control,
		close() {
			closed = true
			offOpen()
			offClose()
			return transport.close()
		}
	}
}

/**
 * The connection counts summed over every process that shares `transport`
 * (see {@link shareConnectionCounts}); `byAddress` and `byUser` stay empty.
 */
export async function clusterConnectionCounts(transport: Transport): Promise<ConnectionCounts> {
	const out: ConnectionCounts = { total: 0, byRoute: {}, byTopic: {}, byAddress: {}, byKind: {}, byUser: {} }
	for (const [key, n] of Object.entries(await transport.clusterCounts())) {
		if (key === TOTAL) out.total = n
		else if (key.startsWith(ROUTE)) out.byRoute[key.slice(ROUTE.length)] = n
		else if (key.startsWith(KIND)) out.byKind[key.slice(KIND.length)] = n
		else if (key.startsWith(TOPIC)) out.byTopic[key.slice(TOPIC.length)] = n
	}
	return out
}
