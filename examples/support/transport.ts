import { memory, type Transport } from 'sluice'
import { redis } from 'sluice/redis'

/**
 * The broadcast transport the examples use: Redis when REDIS_URL is set (so
 * several processes, e.g. `examples/cluster.ts <name> --workers N`, share
 * topics, history and counts), else memory (this process only).
 * REDIS_PREFIX separates apps that share one Redis.
 */
export function transportFromEnv(env: Record<string, string | undefined> = process.env): Transport {
	if (!env.REDIS_URL) return memory()
	return redis({
		url: env.REDIS_URL,
		prefix: env.REDIS_PREFIX ?? 'sluice',
		onError: (error) => console.error(`[redis] ${error.message}`)
	})
}
