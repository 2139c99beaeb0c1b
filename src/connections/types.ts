import type { CloseListener as StreamCloseListener, CloseReason } from '../stream'

// What the registry, the drain and the metrics all speak of: here, so that none imports another for a type.

/** What kind of helper opened a stream. */
export type StreamKind = (typeof STREAM_KINDS)[number]

/** Every kind, in the order metrics list them. */
export const STREAM_KINDS = ['sse', 'ndjson', 'file', 'stream'] as const

/**
 * What the registry needs of a live stream: a ResponseStream, or anything else
 * that sends a response and knows when it ends (a zero-copy file download).
 * Ids come from newStreamId() so they never collide.
 */
export interface LiveStream {
	readonly id: number
	readonly startedAt: number
	readonly bytesSent: number
	readonly eventsSent: number
	readonly lastEventId: string | undefined
	readonly closed: boolean
	/** Bytes written that the client has not taken yet (streams written from JavaScript). */
	readonly unsentBytes?: number
	onClose(listener: StreamCloseListener): () => void
	close(reason?: CloseReason): void
	/** Writes a last frame on drain; a stream without it (a zero-copy download) gets none. */
	write?(chunk: string | Uint8Array, events?: number): boolean
}

/** What is known about a stream when it opens. */
export interface ConnectionInfo {
	kind: StreamKind
	/** The route path (e.g. `/chat/:username`). */
	route: string
	/** Broadcast topics it is subscribed to. */
	topics: string[]
	/** The client's IP address, when the server knows it. */
	address?: string
	userAgent?: string
	/** The user the stream belongs to (from the stream's `user` option). */
	user?: string
	/** When the stream ends for its credentials' sake (epoch ms, from its `expiresAt` option). */
	expiresAt?: number
}
