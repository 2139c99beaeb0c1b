import { REPLAY_INCOMPLETE } from './replay'

/** Event names the hub itself sends to a subscriber. */
export const HubEvents = {
	/**
	 * Frames were missed: the Last-Event-ID is unknown or older than the history,
	 * or the replay could not be sent in full. Data: `{ lastEventId, replayed }`,
	 * the last id the client was sent before the gap and the frames replayed before it.
	 */
	replayIncomplete: REPLAY_INCOMPLETE,
	/** The last frame before a slow consumer is disconnected. */
	slowConsumer: 'sluice:slow-consumer',
	/** Sent before the next frames when drop-oldest dropped some. */
	dropped: 'sluice:dropped'
} as const
