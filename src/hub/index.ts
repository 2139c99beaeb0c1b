export type { ControlChannel, ControlMessage, Frame, Replay, ReplayPage, Transport } from './transport'
export { MemoryTransport, memory, type MemoryTransportOptions } from './memory'
export { HistoryRing, type HistoryOptions } from './history'
export { viewOf, type FrameView } from './frame-view'
export { Subscriber, type SlowConsumerPolicy, type SubscriberOptions } from './subscriber'
export { HubEvents } from './hub-events'
export {
	Hub,
	BroadcastDataError,
	type EventChecker,
	type HubOptions,
	type PublishEvents,
	type SubscribeOptions,
	type PresenceOptions
} from './hub'
export { subscriptionStream, type SubscriptionOptions } from './subscription-stream'
export { TopicsSubscription, TopicsError, type TopicsOptions, type TopicStart, type TopicMember } from './topics-subscription'
