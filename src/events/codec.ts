import type { EventSchemas, EventTypes } from './types'
import { isTextSchema, nonJsonPart } from './wire'
import { OptionError, SluiceError } from '../errors'

/**
 * The schemas of a typed event registry, without its checkers: what a client
 * needs to type and decode what it reads (raw text for an event whose schema
 * accepts strings only, JSON otherwise). It loads no schema compiler, so a
 * browser bundle stays small; checking is the server's (EventRegistry, from
 * `sluice`, extends this with compiled checkers).
 */
export class EventCodec<S extends EventSchemas = EventSchemas> {
	/** Type-only: event name -> data type. */
	declare readonly Events: EventTypes<S>
	readonly names: readonly (keyof S & string)[]
	protected readonly text = new Map<string, boolean>()

	constructor(readonly schemas: S) {
		this.names = Object.keys(schemas)
		for (const name of this.names) {
			if (/[\r\n\0]/.test(name) || name === '')
				throw new OptionError(`sse event name ${JSON.stringify(name)}: must be non-empty, without CR, LF or NUL`)
			const bad = nonJsonPart(schemas[name]!)
			if (bad)
				throw new OptionError(
					`sse event "${name}": the schema at ${bad} cannot travel as JSON; use a JSON type (e.g. t.String({ format: 'date-time' }) for a date)`
				)
			this.text.set(name, isTextSchema(schemas[name]!))
		}
	}

	/** Whether `event` is registered. */
	has(event: string): event is keyof S & string {
		return this.text.has(event)
	}

	/** Whether `event`'s data is sent as raw text (its schema accepts strings only). */
	isText(event: keyof S & string): boolean {
		return this.text.get(event) ?? false
	}

	/**
	 * The value of a received `data:` text, for a client: the text itself for a
	 * text event, parsed JSON for any other ('' means no data: undefined).
	 */
	decode<K extends keyof S & string>(event: K, text: string): EventTypes<S>[K] {
		if (this.text.get(event)) return text as EventTypes<S>[K]
		return (text === '' ? undefined : JSON.parse(text)) as EventTypes<S>[K]
	}

	/** The schemas of some of these events, e.g. to limit one route to them. */
	protected picked<K extends keyof S & string>(names: K[]): Pick<S, K> {
		const picked = {} as Pick<S, K>
		for (const name of names) {
			if (!this.has(name)) throw new SluiceError('EVENT_UNKNOWN', `sse event "${name}" is not registered`)
			picked[name] = this.schemas[name]
		}
		return picked
	}
}

/**
 * Registers event schemas by name, for a client: typing and decoding only
 * (the server's `events()` from `sluice` also checks).
 *
 * @example
 * const feed = events({ tick: t.Object({ n: t.Number() }), note: t.String() })
 */
export const events = <S extends EventSchemas>(schemas: S): EventCodec<S> => new EventCodec(schemas)

/** Event name -> data type of a registry. */
export type EventsOf<R> = R extends EventCodec<infer S> ? EventTypes<S> : never
