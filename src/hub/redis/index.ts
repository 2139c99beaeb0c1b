import type { RedisClient } from 'bun'
import { isUtf8 } from 'node:buffer'
import { hostname } from 'node:os'
import { OptionError, SluiceError } from '../../errors'
import type { HistoryOptions } from '../history'
import type { Frame, Replay, ReplayPage, Transport } from '../transport'
import { LiveConnection, withTimeout } from './connection'
import { TopicFeed } from './feed'
import { FrameCache } from './frame-cache'
import { Presence } from './presence'
import { RedisControl } from './control'
import { PUBLISH, RAISE_COUNTER, REPLAY_AFTER, REPLAY_LAST, runScript } from './scripts'

/** Options of the {@link redis} transport. */
export interface RedisTransportOptions {
	/**
	 * The Redis server.
	 * @default process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
	 */
	url?: string
	/**
	 * Prefix of every key and channel, so several apps can share one Redis.
	 * Set by the app, never from a request (topic names neither: each is keys).
	 * @default 'sluice'
	 */
	prefix?: string
	/**
	 * What each topic keeps for Last-Event-ID replay (a capped Redis Stream), as
	 * the memory transport's history: `maxFrames` (default 1000) and `maxBytes`,
	 * the frames' sum (default 1 MiB; the oldest go first; keep the hub's
	 * replayBytes above it). Set by the app, never from a request.
	 */
	history?: HistoryOptions
	/**
	 * Milliseconds after a topic's last publish when its keys (counter, history)
	 * expire; 0 keeps them for good. After that a topic starts over: its ids
	 * begin again from the highest one a live process has seen (else from 1),
	 * and clients holding an older id get `sluice:replay-incomplete`.
	 * @default 0
	 */
	topicTtlMs?: number
	/**
	 * Most history entries one Redis reply carries: a replay or a catch-up reads
	 * in pages of this many (`XRANGE ... COUNT`), never a whole stream at once.
	 * @default 256
	 */
	pageFrames?: number
	/**
	 * How long a process's presence counts live without a heartbeat: a process
	 * that dies stops counting within this time.
	 * @default 5000
	 */
	presenceTtlMs?: number
	/**
	 * How long `replay()` waits for a topic's subscription (or the connection) to
	 * be up before reading history anyway.
	 * @default 2000
	 */
	waitMs?: number
	/**
	 * How long a command may go unanswered before it fails (publish rejects, the
	 * connection is replaced); also the PING interval that finds a hung connection.
	 * @default 2000
	 */
	commandTimeoutMs?: number
	/**
	 * Longest pause between reconnect attempts (they back off from 50 ms).
	 * @default 1000
	 */
	maxBackoffMs?: number
	/**
	 * Where errors go: lost connections, failed heartbeats, throwing listeners.
	 * Never thrown.
	 * @default console.error
	 */
	onError?: (error: Error) => void
	/** Called when the transport's connection to Redis goes up or down. */
	onStatus?: (status: 'up' | 'down') => void
}

/** A publish refused because Redis cannot be reached; nothing was sent. */
export class RedisUnavailableError extends SluiceError {
	constructor(message: string, options?: { cause?: unknown }) {
		super('REDIS_UNAVAILABLE', message, { ...options, status: 503 })
		this.name = 'RedisUnavailableError'
	}
}

const encoder = new TextEncoder()

/** The URL as it may appear in messages: without its password. */
function redactPassword(url: string): string {
	try {
		const parsed = new URL(url)
		if (parsed.password) parsed.password = '***'
		return parsed.toString()
	} catch {
		return url
	}
}

/**
 * Redis transport for broadcast: frames, ids, history and presence counts
 * shared by every process that uses the same Redis (and prefix).
 *
 * - Ids come from one counter per topic, given out by a script that also adds
 *   the frame to the topic's capped stream and PUBLISHes it, so every process
 *   receives a topic's frames in id order, and the bytes encoded on the
 *   publishing process are the bytes every subscriber gets.
 * - While Redis is unreachable, publish() rejects with a RedisUnavailableError
 *   (nothing is queued: an id only Redis can give would be missing), live
 *   streams stay open, and both connections retry until Redis is back; then
 *   the transport re-subscribes and reads what it missed from history.
 * - Frames must be UTF-8 (SSE is): Bun's pub/sub hands messages over as
 *   strings, so other bytes could not arrive unchanged and are refused.
 *
 * @example
 * streaming({ transport: redis({ url: 'redis://127.0.0.1:6379' }) })
 */
export function redis(options: RedisTransportOptions = {}): RedisTransport {
	return new RedisTransport(options)
}

export class RedisTransport implements Transport {
	/** The Redis URL, its password hidden (it appears in messages). */
	readonly url: string
	private readonly prefix: string
	private readonly history: number
	private readonly historyBytes: number
	private readonly topicTtlMs: number
	private readonly pageFrames: number
	private readonly waitMs: number
	private readonly commandTimeoutMs: number
	private readonly report: (error: Error) => void
	private readonly onStatus?: (status: 'up' | 'down') => void
	private readonly commands: LiveConnection
	private readonly subscriber: LiveConnection
	private readonly presence: Presence
	/** Messages to the other processes (close a user's streams everywhere). */
	readonly control: RedisControl
	private readonly controlChannel: string
	private readonly feeds = new Map<string, TopicFeed>()
	/** Per listened topic: frames decoded lately, shared by its replays and live delivery. */
	private readonly decoded = new Map<string, FrameCache>()
	private readonly topicOfChannel = new Map<string, string>()
	/** Highest id this process has seen per topic: seeds a counter Redis lost. */
	private readonly seen = new Map<string, number>()
	private closed = false
	private up = false
	private readonly down = new Set<string>()
	private inbox: [message: string, channel: string][] = []
	private readonly onMessage = (message: string, channel: string) => this.receive(message, channel)

	constructor({
		url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
		prefix = 'sluice',
		history: { maxFrames: history = 1000, maxBytes: historyBytes = 1024 * 1024 } = {},
		topicTtlMs = 0,
		pageFrames = 256,
		presenceTtlMs = 5000,
		waitMs = 2000,
		maxBackoffMs = 1000,
		commandTimeoutMs = 2000,
		onError = (error) => console.error(error),
		onStatus
	}: RedisTransportOptions = {}) {
		for (const [name, value] of Object.entries({ 'history.maxFrames': history, 'history.maxBytes': historyBytes, pageFrames, presenceTtlMs, waitMs, maxBackoffMs, commandTimeoutMs }))
			if (!Number.isInteger(value) || value <= 0) throw new OptionError(`redis transport: ${name} must be a positive integer (got ${value})`)
		if (!Number.isInteger(topicTtlMs) || topicTtlMs < 0)
			throw new OptionError(`redis transport: topicTtlMs must be a non-negative integer (got ${topicTtlMs})`)
		this.url = redactPassword(url)
		this.prefix = prefix
		this.history = history
		this.historyBytes = historyBytes
		this.topicTtlMs = topicTtlMs
		this.pageFrames = pageFrames
		this.waitMs = waitMs
		this.report = onError
		this.onStatus = onStatus
		this.commandTimeoutMs = commandTimeoutMs
		const connectOptions = { connectTimeoutMs: commandTimeoutMs, maxBackoffMs, pingMs: commandTimeoutMs }
		this.commands = new LiveConnection(
			url,
			{
				onUp: () => {},
				onReady: (client) => {
					// A restarted Redis has forgotten this process's counts, and maybe its counters.
					void this.presence.write()
					this.restoreCounters(client)
					this.regained('command')
				},
				onDown: (error) => this.lost('command', error)
			},
			connectOptions
		)
		this.subscriber = new LiveConnection(
			url,
			{
				onUp: (client) => this.resubscribe(client),
				onReady: (client) => this.subscribed(client),
				onDown: (error) => this.lost('subscriber', error)
			},
			connectOptions
		)
		this.presence = new Presence(
			() => this.commands.client,
			(client, reply) => this.command(client, reply, 'presence'),
			{ processes: `${prefix}:processes`, countsPrefix: `${prefix}:counts:` },
			`${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`,
			presenceTtlMs,
			this.report
		)
		this.controlChannel = `${prefix}:control`
		this.control = new RedisControl(this.presence.processId, (text) => this.publishControl(text), this.report)
		this.commands.start()
		this.subscriber.start()
	}

	/** True while both connections to Redis are up. */
	get connected(): boolean {
		return !!this.commands.client && !!this.subscriber.client
	}

	/** Resolves true once both connections are up, false after `ms`. */
	async ready(ms = this.waitMs): Promise<boolean> {
		return (await this.commands.whenUp(ms)) && (await this.subscriber.whenUp(ms))
	}

	async publish(topic: string, body: Uint8Array): Promise<Frame> {
		if (this.closed) throw new RedisUnavailableError('redis transport: closed; publish refused')
		const client = this.commands.client
		if (!client)
			throw new RedisUnavailableError(`redis transport: Redis at ${this.url} is unreachable; publish refused, nothing was sent`)
		if (!isUtf8(body)) throw new SluiceError('REDIS_FRAME_INVALID', 'redis transport: a frame must be UTF-8 text; publish refused')
		let id: string
		try {
			id = await this.command(
				client,
				runScript(
					client,
					PUBLISH,
					[this.key(topic, 'n'), this.key(topic, 'h'), this.key(topic, 'b')],
					[
						this.channel(topic),
						body,
						String(this.history),
						String(this.seen.get(topic) ?? 0),
						String(this.historyBytes),
						String(this.topicTtlMs)
					]
				),
				'publish'
			)
		} catch (error) {
			if ((error as { code?: string })?.code === 'ERR_REDIS_SERVER_ERROR')
				throw new SluiceError('REDIS_PUBLISH_REFUSED', `redis transport: Redis refused the publish to "${topic}": ${(error as Error).message}`, { cause: error })
			throw new RedisUnavailableError(`redis transport: publish to "${topic}" failed; it may not have been sent`, {
				cause: error
			})
		}
		this.see(topic, Number(id))
		const head = encoder.encode(`id: ${id}\n`)
		const bytes = new Uint8Array(head.length + body.length)
		bytes.set(head)
		bytes.set(body, head.length)
		return { topic, id, bytes }
	}

	listen(topic: string, onFrame: (frame: Frame) => void): () => void {
		let feed = this.feeds.get(topic)
		if (!feed) {
			feed = new TopicFeed(topic, (t, after) => this.readAfter(t, after), this.report)
			this.feeds.set(topic, feed)
			this.decoded.set(topic, new FrameCache(this.historyBytes))
			this.topicOfChannel.set(this.channel(topic), topic)
			const client = this.subscriber.client
			if (client)
				void this.subscribe(client, [feed]).catch((error) =>
					this.report(new Error(`redis transport: subscribe to "${topic}" failed; retried on reconnect`, { cause: error }))
				)
		}
		const listener = (frame: Frame) => onFrame(frame)
		feed.listeners.add(listener)
		return () => {
			const current = this.feeds.get(topic)
			if (!current?.listeners.delete(listener) || current.listeners.size > 0) return
			this.feeds.delete(topic)
			this.decoded.delete(topic)
			this.topicOfChannel.delete(this.channel(topic))
			this.subscriber.client?.unsubscribe(this.channel(topic)).catch(() => {})
		}
	}

	async replay(topic: string, afterId: string | undefined, last = 0, page?: ReplayPage): Promise<Replay> {
		// A replay right after listen() must not miss frames published before the
		// SUBSCRIBE took effect: read history only once the subscription is live.
		const deadline = performance.now() + this.waitMs
		await this.feeds.get(topic)?.whenActive(this.waitMs)
		const client =
			this.commands.client ??
			((await this.commands.whenUp(Math.max(0, deadline - performance.now()))) ? this.commands.client : undefined)
		if (!client) throw new RedisUnavailableError(`redis transport: Redis at ${this.url} is unreachable; no history`)
		if (afterId !== undefined && !/^\d{1,15}$/.test(afterId)) return { frames: [], complete: false }
		if (afterId === undefined && last <= 0) return { frames: [], complete: true }
		const keys = [this.key(topic, 'n'), this.key(topic, 'h')]
		const count = Math.max(1, Math.min(this.pageFrames, page?.maxFrames ?? Infinity))
		// Redis stops a page at its bytes too, so a client that does not read holds little.
		const bytes = String(Math.max(1, Math.min(page?.maxBytes ?? Infinity, 2 ** 53 - 1)))
		const [head, entries, more]: [number, [string, string[]][], number] = await this.command(
			client,
			afterId !== undefined
				? runScript(client, REPLAY_AFTER, keys, [afterId, String(count), bytes])
				: runScript(client, REPLAY_LAST, keys, [String(last), String(count), bytes]),
			'replay'
		)
		const frames = this.framesOf(topic, entries)
		const complete = afterId === undefined || head === 1
		// A page: the caller (the hub) skips live frames its replay already had.
		if (page) return more === 1 ? { frames, complete, more: true } : { frames, complete }
		// The whole history, still read a page at a time.
		if (more === 1) frames.push(...(await this.readAfter(topic, Number.parseInt(entries.at(-1)![0]))))
		// The history reply can overtake the pub/sub messages of the same frames (two
		// connections). Resolve only once listeners have had them, as with memory: a
		// caller that holds live frames during replay() then sees every one before
		// the replay, and none after it that the replay already had.
		const newest = frames.at(-1)
		const feed = this.feeds.get(topic)
		if (newest && feed?.active) await feed.whenDelivered(Number(newest.id), this.waitMs)
		return { frames, complete }
	}

	private async publishControl(text: string): Promise<void> {
		const client = this.commands.client
		if (this.closed || !client)
			throw new RedisUnavailableError(`redis transport: Redis at ${this.url} is unreachable; control message not sent`)
		await this.command(client, client.publish(this.controlChannel, text), 'control')
	}

	setCounts(counts: Record<string, number>): void {
		this.presence.set(counts)
	}

	clusterCounts(): Promise<Record<string, number>> {
		return this.presence.cluster()
	}

	async close(): Promise<void> {
		if (this.closed) return
		this.closed = true
		await this.presence.stop()
		this.feeds.clear()
		this.decoded.clear()
		this.commands.close()
		this.subscriber.close()
	}

	private key(topic: string, kind: 'n' | 'h' | 'b'): string {
		// The hash tag keeps a topic's counter and stream in one cluster slot.
		return `${this.prefix}:{${topic}}:${kind}`
	}

	private channel(topic: string): string {
		return `${this.prefix}:{${topic}}:f`
	}

	private restoreCounters(client: RedisClient): void {
		for (const [topic, id] of this.seen)
			void this.command(client, runScript(client, RAISE_COUNTER, [this.key(topic, 'n')], [String(id), String(this.topicTtlMs)]), 'restore').catch(
				(error) => this.report(new Error(`redis transport: could not restore the counter of "${topic}"`, { cause: error }))
			)
	}

	private see(topic: string, id: number): void {
		if (id > (this.seen.get(topic) ?? 0)) this.seen.set(topic, id)
	}

	private receive(message: string, channel: string): void {
		// Bun runs microtasks between two pub/sub callbacks, so a listener that
		// batches per microtask would write each frame alone. Handing over the
		// messages of one socket read together (on setImmediate) lets the hub join
		// them into one write per subscriber: under load, batches grow by themselves.
		if (this.inbox.push([message, channel]) === 1) setImmediate(this.drainInbox)
	}

	private readonly drainInbox = () => {
		const inbox = this.inbox
		this.inbox = []
		for (const [message, channel] of inbox) {
			if (channel === this.controlChannel) {
				this.control.receive(message)
				continue
			}
			const topic = this.topicOfChannel.get(channel)
			if (topic === undefined) continue
			const frame = this.frameOf(topic, message)
			if (frame) this.feeds.get(topic)?.receive(frame)
		}
	}

	private frameOf(topic: string, text: string): Frame | undefined {
		const end = text.indexOf('\n')
		if (!text.startsWith('id: ') || end < 0) {
			this.report(new Error(`redis transport: ignored a message on "${topic}" that is not a frame`))
			return undefined
		}
		const id = text.slice(4, end)
		this.see(topic, Number(id))
		const make = (): Frame => ({ topic, id, bytes: encoder.encode(text) })
		return this.decoded.get(topic)?.frame(id, text, make) ?? make()
	}

	private framesOf(topic: string, entries: [string, string[]][] | null): Frame[] {
		const frames: Frame[] = []
		for (const [, fields] of entries ?? []) {
			const frame = this.frameOf(topic, fields[1] ?? '')
			if (frame) frames.push(frame)
		}
		return frames
	}

	/** Every frame after `afterId`, read a page (`pageFrames`) at a time. */
	private async readAfter(topic: string, afterId: number): Promise<Frame[]> {
		const frames: Frame[] = []
		for (let after = afterId; ; ) {
			const client = this.commands.client
			if (!client) throw new RedisUnavailableError(`redis transport: Redis at ${this.url} is unreachable`)
			const entries: [string, string[]][] = await this.command(
				client,
				client.send('XRANGE', [this.key(topic, 'h'), `(${after}-0`, '+', 'COUNT', String(this.pageFrames)]),
				'catch-up'
			)
			frames.push(...this.framesOf(topic, entries))
			if (entries.length < this.pageFrames) return frames
			after = Number.parseInt(entries.at(-1)![0])
		}
	}

	/** A command on the command connection, bounded: one that hangs drops the connection. */
	private async command<T>(client: RedisClient, reply: Promise<T>, what: string): Promise<T> {
		try {
			return await withTimeout(reply, this.commandTimeoutMs, what)
		} catch (error) {
			if (/no answer from Redis/.test((error as Error).message) && this.commands.client === client)
				this.commands.drop(error as Error)
			throw error
		}
	}

	private async subscribe(client: RedisClient, feeds: TopicFeed[]): Promise<void> {
		if (feeds.length === 0) return
		await client.subscribe(
			feeds.map((f) => this.channel(f.topic)),
			this.onMessage
		)
		for (const feed of feeds) feed.setActive(true)
	}

	/** A new subscriber connection: subscribe every topic (a throw makes it retry). */
	private async resubscribe(client: RedisClient): Promise<void> {
		await client.subscribe(this.controlChannel, this.onMessage)
		await this.subscribe(client, [...this.feeds.values()])
	}

	private subscribed(client: RedisClient): void {
		// Topics listened to while the connection was being set up.
		const late = [...this.feeds.values()].filter((f) => !f.active)
		void this.subscribe(client, late).catch((error) =>
			this.report(new Error('redis transport: subscribe failed', { cause: error }))
		)
		// Frames published while the subscriber was down are only in history.
		for (const feed of this.feeds.values()) feed.resync()
		this.regained('subscriber')
	}

	private lost(which: string, error: Error): void {
		if (which === 'subscriber') for (const feed of this.feeds.values()) feed.setActive(false)
		// Reported once per outage, not once per failed retry.
		if (!this.closed && !this.down.has(which))
			this.report(new Error(`redis transport: lost the ${which} connection to ${this.url}; reconnecting`, { cause: error }))
		this.down.add(which)
		this.status()
	}

	private regained(which: string): void {
		this.down.delete(which)
		this.status()
	}

	private status(): void {
		const up = this.connected
		if (up === this.up) return
		this.up = up
		this.onStatus?.(up ? 'up' : 'down')
	}
}
