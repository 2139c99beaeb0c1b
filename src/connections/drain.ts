import { encodeSse } from '../sse/encode'
import { jitteredRetry } from '../sse/retry'
import type { LiveStream, StreamKind } from './types'

/** What a farewell frame may say. */
export interface FarewellContext {
	reason: string
	retryMs: number
}

/** The last bytes a stream of one kind is sent on drain. */
export type Farewell = (context: FarewellContext) => string | Uint8Array

/**
 * Farewell per kind of stream. A kind with a farewell is sent it and closed at
 * once; a kind with none (null) is left to finish by itself until the grace
 * ends, because a record or a byte appended to an NDJSON body or a file would
 * corrupt it.
 */
export type Farewells = Partial<Record<StreamKind, Farewell | null>>

/** Options of drain(). */
export interface DrainOptions {
	/** Milliseconds streams without a farewell get to finish before they are cut. @default 5000 */
	graceMs?: number
	/** Reconnection delay sent to SSE clients in their last frame, in milliseconds. @default 1000 */
	retryMs?: number
	/**
	 * Spread of that delay, so clients do not all come back in the same
	 * millisecond: each stream is told a random retryMs .. retryMs * (1 + retryJitter).
	 * @default 0.5
	 */
	retryJitter?: number
	/** Why the stream ends, told to the client in its last frame. @default 'server shutting down' */
	reason?: string
	/** Last frame per kind of stream. @default an SSE `shutdown` event with a `retry:` hint */
	farewells?: Farewells
}

/** What a drain did. */
export interface DrainResult {
	/** Streams sent a farewell and closed at once. */
	farewelled: number
	/** Streams that ended by themselves within the grace period. */
	finished: number
	/** Streams still open when the grace ended, and cut. */
	cut: number
}

/** SSE: `retry:` so clients come back after the restart, and an event saying why. */
export const sseFarewell: Farewell = ({ reason, retryMs }) =>
	encodeSse({ event: 'shutdown', retry: retryMs, data: { reason } })

export const defaultFarewells: Farewells = { sse: sseFarewell }

const farewellTypes: Partial<Record<StreamKind, string>> = {
	sse: 'text/event-stream; charset=utf-8',
	ndjson: 'application/x-ndjson'
}

/**
 * The farewell a stream of `kind` that asks to open while draining is answered
 * with, as a whole 200 response: an EventSource gives up for good on any other
 * status, but reconnects after the `retry:` hint of a 200 that ends.
 */
export function farewellResponseBody(
	kind: StreamKind,
	{ retryMs = 1000, retryJitter = 0.5, reason = 'server shutting down', farewells }: DrainOptions
): { body: string | Uint8Array; contentType: string } | undefined {
	const farewell = { ...defaultFarewells, ...farewells }[kind]
	const contentType = farewellTypes[kind]
	return farewell && contentType
		? { body: farewell({ reason, retryMs: jitteredRetry(retryMs, retryJitter) }), contentType }
		: undefined
}

/** Closes `entries`: a farewell and close for kinds that have one, the grace period for the others. */
export async function drainStreams(
	entries: { stream: LiveStream; kind: StreamKind }[],
	{ graceMs = 5000, retryMs = 1000, retryJitter = 0.5, reason = 'server shutting down', farewells }: DrainOptions = {}
): Promise<DrainResult> {
	const byKind = { ...defaultFarewells, ...farewells }
	const waiting: LiveStream[] = []
	let farewelled = 0
	for (const { stream, kind } of entries) {
		if (stream.closed) continue
		const farewell = byKind[kind]
		// A stream that cannot take a last frame (a zero-copy download) gets the grace period.
		if (!farewell || !stream.write) {
			waiting.push(stream)
			continue
		}
		stream.write(farewell({ reason, retryMs: jitteredRetry(retryMs, retryJitter) }), 1)
		stream.close('server')
		farewelled++
	}
	await allClosed(waiting, graceMs)
	let cut = 0
	for (const stream of waiting)
		if (!stream.closed) {
			stream.close('server')
			cut++
		}
	return { farewelled, finished: waiting.length - cut, cut }
}

function allClosed(streams: LiveStream[], ms: number): Promise<void> {
	let left = streams.filter((s) => !s.closed).length
	if (left === 0) return Promise.resolve()
	return new Promise((resolve) => {
		const timer = setTimeout(resolve, ms)
		const one = () => {
			if (--left > 0) return
			clearTimeout(timer)
			resolve()
		}
		for (const stream of streams) if (!stream.closed) stream.onClose(one)
	})
}
