export { EventRegistry, events, type EventsOf } from './registry'
export { EventDataError } from './error'
export { isTextSchema } from './wire'
export type { EventSchemas, EventTypes, EventMessage, EventItem, ControlItem } from './types'
