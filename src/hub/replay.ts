import { encodeSseBytes } from '../sse'
import type { ResponseStream } from '../stream'
import { idNumber } from './history'
import type { Frame, Replay, ReplayPage } from './transport'

/** Event name of the notice sent when a replay cannot give every frame after the client's id. */
export const REPLAY_INCOMPLETE = 'sluice:replay-incomplete'

/**
 * How much history is read at a time: a subscriber holds one page (references
 * to the history's frames), never the whole history.
 */
export const REPLAY_PAGE: ReplayPage = { maxFrames: 256, maxBytes: 64 * 1024 }

/** Reads one page of history: after `afterId` when given, else the first page of the last `last` frames. */
export type ReadPage = (afterId: string | undefined, last: number) => Promise<Replay>

/** @internal What a replay needs of its subscriber. */
export interface ReplayTarget {
	readonly stream: ResponseStream
	/** False for frames the subscriber's filter skips. */
	keeps(frame: Frame): boolean
	/** The live frames held since the replay began, taken (holding goes on). */
	takeHeld(): Frame[]
	/** How many times held live frames passed the limit and were let go (the history still has them). */
	readonly heldDropped: number
	/** Ends holding: live frames after `lastId` go out as they come; `skipHeld` lets the held ones go. */
	startLive(lastId: number | undefined, skipHeld?: boolean): void
	/** Writes a replayed frame its own way (a stream of many topics marks the topic); false when the client is behind. */
	writeFrame?(frame: Frame): boolean
	/** Writes the replay-incomplete notice its own way. */
	writeNotice?(data: { lastEventId: string | undefined; replayed: number }): void
}

/**
 * Sends a subscriber its history as the client reads it: a page at a time, each
 * frame written as the history's own bytes (shared by every client replaying
 * them), the next one only once the stream has drained. A replay is therefore
 * never slow consumption, and a client that does not read holds one page and
 * what its socket buffers, not a copy of the history.
 *
 * Live frames published meanwhile are held by the subscriber (bounded by its
 * limit); past the limit they are let go and read from history instead. When
 * the history has nothing newer, the held frames follow, then live ones,
 * without gap or duplicate (ids the replay wrote are skipped).
 *
 * When frames are missing (an unknown or too old id, frames evicted while the
 * client was slow, the history unreadable, or more than `budget` bytes of
 * history), the client gets `sluice:replay-incomplete` with the last id it
 * was actually sent, and the stream goes on: never a cut-off that a reconnect
 * with the same id would meet again.
 */
export async function replayHistory(
	sub: ReplayTarget,
	read: ReadPage,
	lastEventId: string | undefined,
	last: number,
	budget: number
): Promise<void> {
	const stream = sub.stream
	/** The highest id handled (written, or skipped by the filter). */
	let cursor: number | undefined
	let replayed = 0
	let bytes = 0
	let noticedAt = -1
	const notice = (id: string | undefined) => {
		// One notice per gap: a failing read retried with nothing sent between is the same gap.
		if (noticedAt === replayed) return
		noticedAt = replayed
		if (sub.writeNotice) return sub.writeNotice({ lastEventId: id, replayed })
		stream.write(encodeSseBytes({ event: REPLAY_INCOMPLETE, data: { lastEventId: id, replayed } }))
		stream.report('replay-incomplete')
	}
	/** Writes `frame` unless the filter skips it; false once the stream has closed. */
	const send = async (frame: Frame, id: number): Promise<boolean> => {
		cursor = id
		if (!sub.keeps(frame)) return true
		replayed++
		let ready: boolean
		if (sub.writeFrame) ready = sub.writeFrame(frame)
		else {
			stream.lastEventId = frame.id
			ready = stream.write(frame.bytes, 1)
		}
		if (!ready) await stream.drained()
		return !stream.closed
	}
	const lastSent = () => (cursor === undefined ? lastEventId : String(cursor))

	let first = true
	try {
		for (;;) {
			const dropsAtRead = sub.heldDropped
			let page: Replay
			try {
				page = first ? await read(lastEventId, last) : await read(String(cursor ?? 0), 0)
			} catch {
				page = { frames: [], complete: false }
			}
			if (stream.closed) return
			if (first && page.complete && lastEventId !== undefined) cursor = idNumber(lastEventId)
			if (!page.complete && (lastEventId !== undefined || !first)) notice(lastSent())
			first = false
			for (const frame of page.frames) {
				const id = Number(frame.id)
				if (cursor !== undefined && id <= cursor) continue
				bytes += frame.bytes.byteLength
				if (bytes > budget) {
					notice(lastSent())
					return sub.startLive(cursor, true)
				}
				if (!(await send(frame, id))) return
			}
			if (page.more) continue
			// Live frames let go after this read began are in the history after it: read on.
			if (sub.heldDropped !== dropsAtRead) continue
			// The history had nothing newer: the live frames held meanwhile follow.
			for (;;) {
				const held = sub.takeHeld()
				if (held.length === 0) return sub.startLive(cursor)
				const drops = sub.heldDropped
				for (const frame of held) {
					const id = Number(frame.id)
					if (cursor !== undefined && id <= cursor) continue
					if (!(await send(frame, id))) return
				}
				if (sub.heldDropped !== drops) break
			}
		}
	} catch (error) {
		// A filter that throws, say: the stream ends rather than hang half-replayed.
		console.error('broadcast: a replay failed; its stream is closed:', error)
		stream.close('error')
	}
}
