import { RedisClient } from 'bun'

/** What a {@link LiveConnection} tells its owner. */
export interface LiveConnectionHooks {
	/** Runs on every (re)connect before the connection counts as up; a throw drops it and retries. */
	onUp(client: RedisClient): Promise<void> | void
	/** The connection was lost (or could not be made); a retry is scheduled. */
	onDown(error: Error): void
	/** Runs once the connection is up and `client` is set. */
	onReady?(client: RedisClient): void
}

/**
 * One Redis connection that is kept up: on loss it is replaced by a new client,
 * with backoff, for as long as it is not closed.
 *
 * Bun's own auto-reconnect is off on purpose: it gives up after `maxRetries`,
 * queues commands while down (unbounded memory, stale publishes), and does not
 * re-subscribe a subscriber connection. A fresh client per connection keeps
 * subscriptions and listeners simple: set up once in `onUp`, never twice.
 */
export class LiveConnection {
	/** The client, while it is connected and set up; undefined while down. */
	client: RedisClient | undefined
	private closed = false
	private attempt = 0
	private generation = 0
	private timer: ReturnType<typeof setTimeout> | undefined
	private upWaiters: ((up: boolean) => void)[] = []
	private dropCurrent: ((error: Error) => void) | undefined
	private watchdog: ReturnType<typeof setInterval> | undefined
	private pinging = false

	constructor(
		private readonly url: string,
		private readonly hooks: LiveConnectionHooks,
		private readonly options: { connectTimeoutMs: number; maxBackoffMs: number; pingMs: number }
	) {}

	start(): void {
		void this.connect()
		// A server that hangs, or a network that drops packets without a reset,
		// leaves a socket that looks open: a PING that goes unanswered drops it.
		if (this.options.pingMs > 0) {
			this.watchdog = setInterval(() => void this.ping(), this.options.pingMs)
			this.watchdog.unref?.()
		}
	}

	/** Drops the current connection (e.g. a command timed out on it); a new one follows. */
	drop(error: Error): void {
		this.dropCurrent?.(error)
	}

	private async ping(): Promise<void> {
		const client = this.client
		if (!client || this.pinging) return
		this.pinging = true
		try {
			await withTimeout(client.ping(), this.options.pingMs, 'PING')
		} catch (error) {
			if (this.client === client) this.drop(error as Error)
		} finally {
			this.pinging = false
		}
	}

	/** Resolves when the connection is up, or after `ms` (then with false). */
	async whenUp(ms: number): Promise<boolean> {
		if (this.client) return true
		if (this.closed) return false
		let timer: ReturnType<typeof setTimeout> | undefined
		const up = await Promise.race([
			new Promise<boolean>((resolve) => this.upWaiters.push(resolve)),
			new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
		])
		clearTimeout(timer)
		return up
	}

	close(): void {
		this.closed = true
		clearTimeout(this.timer)
		clearInterval(this.watchdog)
		this.generation++
		const client = this.client
		this.client = undefined
		client?.close()
		for (const w of this.upWaiters.splice(0)) w(false)
	}

	private async connect(): Promise<void> {
		const generation = ++this.generation
		const client = new RedisClient(this.url, {
			autoReconnect: false,
			enableOfflineQueue: false,
			connectionTimeout: this.options.connectTimeoutMs
		})
		const lost = (error: Error) => {
			if (generation !== this.generation || this.closed) return
			this.generation++
			this.client = undefined
			this.dropCurrent = undefined
			client.onclose = null
			client.close()
			this.hooks.onDown(error)
			this.retry()
		}
		client.onclose = (error) => lost(error ?? new Error('connection closed'))
		this.dropCurrent = lost
		try {
			const ms = this.options.connectTimeoutMs
			await withTimeout(client.connect(), ms, 'connect')
			if (generation !== this.generation) return void client.close()
			await withTimeout(Promise.resolve(this.hooks.onUp(client)), ms, 'connection setup')
			if (generation !== this.generation) return void client.close()
		} catch (error) {
			return lost(error instanceof Error ? error : new Error(String(error)))
		}
		this.attempt = 0
		this.client = client
		for (const w of this.upWaiters.splice(0)) w(true)
		this.hooks.onReady?.(client)
	}

	private retry(): void {
		if (this.closed) return
		const delay = Math.min(this.options.maxBackoffMs, 50 * 2 ** this.attempt++)
		this.timer = setTimeout(() => void this.connect(), delay)
	}
}

/** Rejects with a timeout error when `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | undefined
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`${what}: no answer from Redis within ${ms} ms`)), ms)
	})
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
