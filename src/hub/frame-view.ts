import { createParser } from 'eventsource-parser'
import type { Frame } from './transport'

/** A published frame, decoded for per-subscriber filters. */
export interface FrameView {
	topic: string
	id: string
	/** Event name (`message` when none was given). */
	event: string
	/** The data text, lines joined with LF. */
	data: string
	/** The data parsed as JSON (undefined when it is not JSON); parsed once per frame. */
	json(): unknown
}

// Decoded at most once per frame, however many subscribers filter it; frames leave with the history.
const views = new WeakMap<Frame, FrameView>()
const utf8 = new TextDecoder()

/** The decoded view of `frame`, shared by every filter that looks at it. */
export function viewOf(frame: Frame): FrameView {
	let view = views.get(frame)
	if (view) return view
	let event = 'message'
	let data = ''
	createParser({
		onEvent: (e) => {
			event = e.event ?? 'message'
			data = e.data
		}
	}).feed(utf8.decode(frame.bytes))
	let parsed: { value: unknown } | undefined
	view = {
		topic: frame.topic,
		id: frame.id,
		event,
		data,
		json() {
			if (!parsed) {
				try {
					parsed = { value: JSON.parse(data) }
				} catch {
					parsed = { value: undefined }
				}
			}
			return parsed.value
		}
	}
	views.set(frame, view)
	return view
}
