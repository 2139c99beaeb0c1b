import type { ControlChannel, ControlMessage } from '../transport'

/** A control message as it travels: who sent it, so the sender skips its own. */
interface Envelope {
	from: string
	message: ControlMessage
}

/**
 * The redis transport's control channel: one pub/sub channel per prefix that
 * every process subscribes to with its topics (see ControlChannel). A message
 * is delivered to the processes subscribed when it is published: pub/sub
 * keeps nothing for one that is down or reconnecting.
 */
export class RedisControl implements ControlChannel {
	readonly #listeners = new Set<(message: ControlMessage) => void>()

	constructor(
		/** This process's id (its presence id). */
		private readonly from: string,
		/** PUBLISHes the text on the control channel. */
		private readonly publish: (text: string) => Promise<void>,
		private readonly report: (error: Error) => void
	) {}

	send(message: ControlMessage): Promise<void> {
		return this.publish(JSON.stringify({ from: this.from, message } satisfies Envelope))
	}

	listen(onMessage: (message: ControlMessage) => void): () => void {
		const listener = (message: ControlMessage) => onMessage(message)
		this.#listeners.add(listener)
		return () => this.#listeners.delete(listener)
	}

	/** @internal A message from the channel. */
	receive(text: string): void {
		let envelope: Envelope
		try {
			envelope = JSON.parse(text)
		} catch {
			return this.report(new Error('redis transport: ignored a control message that is not JSON'))
		}
		if (envelope?.from === this.from || typeof envelope?.message?.type !== 'string') return
		for (const listener of [...this.#listeners]) {
			try {
				listener(envelope.message)
			} catch (error) {
				this.report(new Error('redis transport: a control listener threw', { cause: error }))
			}
		}
	}
}
