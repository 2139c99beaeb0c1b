/**
 * A frame as it travels: the complete SSE bytes (id line included, ending in the
 * blank line), encoded once on the publishing process and written as they are.
 */
export interface Frame {
	topic: string
	/** The topic's id for this frame: a decimal integer, increasing per topic. */
	id: string
	bytes: Uint8Array
}

/** What a topic's history holds after an id. */
export interface Replay {
	/** The frames after the asked id (or the last K), oldest first. */
	frames: Frame[]
	/** False when the asked id is unknown or older than the history: frames were missed. */
	complete: boolean
	/** True when the page stopped before the end of the history: ask again after its last frame. */
	more?: boolean
}

/**
 * How much one replay() call returns at most; at least one frame when there is
 * one. A replay is read in pages, so neither a transport nor a subscriber
 * holds a whole history for one client.
 */
export interface ReplayPage {
	/** Most frames in the page. */
	maxFrames?: number
	/** Most bytes in the page (a single larger frame still comes alone). */
	maxBytes?: number
}

/** A control message between processes: JSON, with a `type` that says whose it is (e.g. `sluice:close`). */
export interface ControlMessage {
	type: string
	[field: string]: unknown
}

/**
 * Messages between the processes of a transport, beside frames: how
 * `connections.close({ user })` reaches every process. `send` delivers to
 * every OTHER process sharing the transport (the sender acts on its own),
 * `listen` hears theirs.
 */
export interface ControlChannel {
	/** Sends `message` to the other processes; rejects when it cannot be sent. */
	send(message: ControlMessage): Promise<void>
	/** Calls `onMessage` with each message another process sends. Returns the remover. */
	listen(onMessage: (message: ControlMessage) => void): () => void
}

/**
 * How frames, history and counts are shared. `memory` (one process, the
 * default) and `redis` (many processes and machines) implement it.
 */
export interface Transport {
	/**
	 * Gives `body` (an encoded frame without its id line) the topic's next id,
	 * prepends `id: <id>\n`, appends the frame to the topic's history, and
	 * delivers it to every listener of the topic in every process, this one
	 * included, in id order. Rejects with a clear error when it cannot publish.
	 */
	publish(topic: string, body: Uint8Array): Promise<Frame>
	/** Calls `onFrame` for each frame of `topic` published anywhere, in id order. Returns the remover. */
	listen(topic: string, onFrame: (frame: Frame) => void): () => void
	/**
	 * History of `topic`: the frames after `afterId` when it is given, else the
	 * last `last` frames (none when `last` is 0 or absent). With `page`, at most
	 * that much, `more` set when frames are left: the caller asks again after
	 * the last frame it got. Without one, the whole history, resolved only once
	 * listeners have had its newest frame; with one, the page may overtake the
	 * live delivery of its frames (the hub skips the ids it replayed).
	 */
	replay(topic: string, afterId: string | undefined, last?: number, page?: ReplayPage): Promise<Replay>
	/**
	 * This process's live counts (e.g. `topic:chat` -> 3); shared with the other processes. The
	 * hub keeps one object current and hands it over again after it changed: a transport may keep
	 * it and read it when it shares the counts (copying it at every call would cost every topic's
	 * count per change); it does not change it.
	 */
	setCounts(counts: Record<string, number>): void
	/** Each count summed over the live processes. */
	clusterCounts(): Promise<Record<string, number>>
	/** Stops listening and releases connections. */
	close(): Promise<void>
	/** Messages to the other processes (redis); absent on a transport of one process (memory). */
	readonly control?: ControlChannel
}
