import type { Static, TSchema } from '@sinclair/typebox'

/** Event name -> TypeBox schema of its data. */
export type EventSchemas = Record<string, TSchema>

/** Event name -> type of its data, from the schemas. */
export type EventTypes<S extends EventSchemas> = { [K in keyof S & string]: Static<S[K]> }

/**
 * One event as a client reads it: a union discriminated by `event`, so
 * `if (m.event === 'tick') m.data.n` is typed.
 */
export type EventMessage<Events> = {
	[K in keyof Events & string]: {
		event: K
		data: Events[K]
		/** The event's `id:` field, if it had one. */
		id?: string
		/** The topic the event came from, on a stream of many topics (docs/topics.md). */
		topic?: string
	}
}[keyof Events & string]

/** One event as a typed server source yields it. */
export type EventItem<Events> = {
	[K in keyof Events & string]: {
		event: K
		data: Events[K]
		id?: string | number
		retry?: number
		comment?: string
	}
}[keyof Events & string]

/** A frame a typed source may also yield that carries no event: a comment or a retry hint. */
export type ControlItem = { comment?: string; retry?: number; event?: never; data?: never; id?: never }
