import Metrics

/// The instruments the scheduler reports through swift-metrics (whatever backend the process
/// bootstrapped, e.g. the server's /metrics endpoint). Created when the scheduler is, so after
/// `MetricsSystem.bootstrap`.
struct BackupMetrics: Sendable {
    /// Seconds since 1970 of the last backup that was taken and verified.
    let lastSuccess: Gauge
    /// How long each successful backup took, verification and pruning included.
    let duration: Metrics.Timer
    /// Bytes the last successful backup describes (all its files, shared ones included).
    let size: Gauge
    /// Backups taken and verified, and attempts that failed (each failure is retried next tick).
    let successes: Counter
    let failures: Counter

    init(factory: any MetricsFactory) {
        lastSuccess = Gauge(label: "osmanthus_backup_last_success_timestamp_seconds", factory: factory)
        duration = Metrics.Timer(label: "osmanthus_backup_duration_seconds", factory: factory)
        size = Gauge(label: "osmanthus_backup_last_size_bytes", factory: factory)
        successes = Counter(label: "osmanthus_backups_total", factory: factory)
        failures = Counter(label: "osmanthus_backup_failures_total", factory: factory)
    }
}
