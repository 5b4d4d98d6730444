#if canImport(Glibc)
import Glibc
#endif

/// Runs `body(0) … body(count - 1)` each on a thread of its own and returns when all have ended. For work
/// that blocks in the kernel (mounts, fsck), which a pool sized to the cores would serialise.
func runOnThreads(_ count: Int, _ body: @escaping (Int) -> Void) {
    guard count > 1 else {
        if count == 1 { body(0) }
        return
    }
    var threads: [pthread_t] = []
    for index in 0..<count {
        let start = Unmanaged.passRetained(ThreadStart { body(index) }).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<ThreadStart>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, start)
        if rc == 0 {
            threads.append(thread)
        } else {
            // No thread to be had: run it here.
            Unmanaged<ThreadStart>.fromOpaque(start).takeRetainedValue().run()
        }
    }
    for thread in threads { pthread_join(thread, nil) }
}

/// What a thread of `runOnThreads` runs, handed to it through pthread_create's one pointer.
private final class ThreadStart {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// The processors the kernel has online: how many crash states a machine checks at once by default.
public enum Processors {
    public static var online: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
