import Synchronization

/// The pipeline's fan-out: every window result, event and status goes to every subscription, in
/// order, each through its own bounded buffer and contract (`LiveSubscription.Delivery`).
/// Subscribe at any time; a subscription made after the run ended is finished at once.
///
/// Threads: `publish` and `finish` run on the pipeline's output queue; `subscribe` and `wanted`
/// from any thread.
public final class LiveHub: Sendable {
    private struct State {
        var subscriptions: [LiveSubscription] = []
        var finished = false
    }
    private let state = Mutex(State())

    public init() {}

    /// A new subscription. `capacity` bounds its buffer (items).
    public func subscribe(_ interest: Interest = .events, delivery: LiveSubscription.Delivery,
                          capacity: Int) -> LiveSubscription {
        let subscription = LiveSubscription(interest: interest, delivery: delivery, capacity: capacity)
        let finished = state.withLock { s -> Bool in
            if !s.finished { s.subscriptions.append(subscription) }
            return s.finished
        }
        if finished { subscription.finish() }
        return subscription
    }

    /// The union of what the current subscribers want: what the model stage computes.
    public var wanted: Interest {
        live().reduce(Interest.events) { $0.union($1.interest) }
    }

    /// Subscriptions still consumed (cancelled ones are forgotten here).
    private func live() -> [LiveSubscription] {
        state.withLock { s in
            s.subscriptions.removeAll { $0.isCancelled }
            return s.subscriptions
        }
    }

    func publish(_ output: LiveOutput) {
        for subscription in live() {
            let interest = subscription.interest
            if case .window = output {
                if !interest.windows { continue }
            } else if !interest.eventsAndStatus {
                continue
            }
            subscription.offer(output)
        }
    }

    /// After the final status: consumers drain what they have, then see the end.
    func finish() {
        let all = state.withLock { s -> [LiveSubscription] in
            s.finished = true
            defer { s.subscriptions = [] }
            return s.subscriptions
        }
        all.forEach { $0.finish() }
    }
}
