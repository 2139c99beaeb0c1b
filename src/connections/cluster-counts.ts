import type { Transport } from '../hub/transport'
import type { SharedCounts } from '../hub/shared-counts'
import { changeListener, type ConnectionCounts, type ConnectionRegistry } from './registry'

// Keys the registry's counts travel under, beside the hub's `topic:<name>` (which give byTopic:
// a stream's topics are its subscriptions).
const TOTAL = 'connections:total'
const ROUTE = 'connections:route:'
const KIND = 'connections:kind:'
const TOPIC = 'topic:'

/**
 * Adds this process's connection counts (total, by route and by kind) to the counts its hub's
 * transport shares with the other processes: with a transport that spans processes (redis), the
 * connection manager's counts can then be summed over the cluster. Addresses and users are not
 * shared. They are read once per turn of the event loop in which a stream opened or closed: a
 * burst of connections costs one read, not one each, and a read costs the routes and kinds, not
 * the topics (the hub keeps those).
 */
export function shareConnectionCounts(shared: SharedCounts, registry: Pick<ConnectionRegistry, 'counts' | 'onOpen' | 'onClose'>): void {
	shared.addSource(() => {
		const { total, byRoute, byKind } = registry.counts({ addresses: false, topics: false, users: false })
		shared.set(TOTAL, total)
		shared.setGroup(ROUTE, Object.entries(byRoute))
		shared.setGroup(KIND, Object.entries(byKind))
	})
	const changed = changeListener(() => shared.changed())
	registry.onOpen(changed)
	registry.onClose(changed)
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
