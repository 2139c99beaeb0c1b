import type { RedisClient } from 'bun'
import { CLUSTER_COUNTS, runScript, SET_COUNTS } from './scripts'

/** The least time between two writes of changed counts. */
const WRITE_GAP_MS = 100

/**
 * This process's counts in Redis, under a key with a TTL that a heartbeat
 * refreshes (every third of the TTL): a process that dies without cleaning up
 * stops counting at most one TTL later.
 */
export class Presence {
	private counts: Record<string, number> = {}
	private timer: ReturnType<typeof setInterval>
	private scheduled = false
	private writing = false
	private failing = false
	private again = false
	private lastWriteAt = 0

	constructor(
		private readonly client: () => RedisClient | undefined,
		private readonly bounded: <T>(client: RedisClient, reply: Promise<T>) => Promise<T>,
		private readonly keys: { processes: string; countsPrefix: string },
		readonly processId: string,
		private readonly ttlMs: number,
		private readonly report: (error: Error) => void
	) {
		this.timer = setInterval(() => void this.write(), Math.max(50, Math.floor(ttlMs / 3)))
		this.timer.unref?.()
	}

	/**
	 * Replaces this process's counts (kept, not copied: see Transport.setCounts); written to Redis
	 * on the next tick, and at most once per WRITE_GAP_MS: each write carries every count, and a
	 * reconnect storm changes them at every turn of the event loop.
	 */
	set(counts: Record<string, number>): void {
		this.counts = counts
		if (this.scheduled) return
		this.scheduled = true
		setTimeout(() => {
			this.scheduled = false
			void this.write()
		}, Math.max(0, this.lastWriteAt + WRITE_GAP_MS - Date.now()))
	}

	local(): Record<string, number> {
		return { ...this.counts }
	}

	/** Counts summed over live processes; this process's own when Redis is down. */
	async cluster(): Promise<Record<string, number>> {
		const client = this.client()
		if (!client) return this.local()
		try {
			const flat: string[] = await this.bounded(
				client,
				runScript(client, CLUSTER_COUNTS, [this.keys.processes], [this.keys.countsPrefix])
			)
			const sums: Record<string, number> = {}
			for (let i = 0; i < flat.length; i += 2) sums[flat[i]!] = Number(flat[i + 1])
			return sums
		} catch (error) {
			this.report(new Error('redis transport: cluster counts unavailable, returning this process\'s own', { cause: error }))
			return this.local()
		}
	}

	/** Writes the counts now (also after a reconnect: a restarted Redis has lost them). */
	async write(): Promise<void> {
		const client = this.client()
		if (!client) return
		if (this.writing) return void (this.again = true)
		this.writing = true
		this.lastWriteAt = Date.now()
		const args: string[] = [this.processId, String(this.ttlMs)]
		for (const [k, v] of Object.entries(this.counts)) args.push(k, String(v))
		try {
			await this.bounded(
				client,
				runScript(client, SET_COUNTS, [this.keys.processes, this.keys.countsPrefix + this.processId], args)
			)
			this.failing = false
		} catch (error) {
			if (!this.failing) this.report(new Error('redis transport: could not write presence counts', { cause: error }))
			this.failing = true
		} finally {
			this.writing = false
		}
		if (this.again) {
			this.again = false
			await this.write()
		}
	}

	/** Stops the heartbeat and removes this process's counts at once. */
	async stop(): Promise<void> {
		clearInterval(this.timer)
		const client = this.client()
		if (!client) return
		await this.bounded(
			client,
			Promise.all([
				client.send('DEL', [this.keys.countsPrefix + this.processId]),
				client.send('ZREM', [this.keys.processes, this.processId])
			])
		).catch(() => {})
	}
}
