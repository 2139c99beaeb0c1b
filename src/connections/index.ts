export {
	ConnectionRegistry,
	type Connection,
	type Trouble,
	type TroubleKind,
	TROUBLE_KINDS,
	type ConnectionInfo,
	type ConnectionCounts,
	type ConnectionRegistryOptions,
	type ConnectionSelector,
	type LiveStream,
	type StreamKind
} from './registry'
export {
	checkAdmission,
	refusalResponse,
	resolveLimits,
	DEFAULT_MAX_PER_ADDRESS,
	type ConnectionLimits,
	type ResolvedLimits,
	type Refusal
} from './limits'
export { descriptorLimit, streamLimitFor } from './descriptor-limit'
export {
	clientAddressOf,
	proxyMatcher,
	type ClientAddressOptions,
	type TrustProxy,
	type ProxyHeader
} from './client-address'
export {
	sseFarewell,
	type DrainOptions,
	type DrainResult,
	type Farewell,
	type Farewells,
	type FarewellContext
} from './drain'
export { formatMetrics, PROMETHEUS_CONTENT_TYPE, type MetricFamily, type Sample } from './metrics'
export { watchCounts, type WatchCountsOptions } from './watch'
export { identityOf, MAX_USER_LENGTH, type StreamIdentity } from './identity'
export { EXPIRED_EVENT, type ExpiryOptions } from './expiry'
export { shareConnectionCounts, clusterConnectionCounts } from './cluster-counts'
