import { MemoryTransport, type Transport } from '../../src/hub'

/** A memory transport whose history answers `ms` late, as a remote store (Redis) would. */
export function lateHistory(ms: number, inner = new MemoryTransport()): Transport {
	return {
		publish: (topic, body) => inner.publish(topic, body),
		listen: (topic, onFrame) => inner.listen(topic, onFrame),
		replay: async (topic, after, last) => {
			await Bun.sleep(ms)
			return inner.replay(topic, after, last)
		},
		setCounts: (counts) => inner.setCounts(counts),
		clusterCounts: () => inner.clusterCounts(),
		close: () => inner.close()
	}
}
