import NIOCore

/// Facts about the machine that defaults depend on.
public enum System {
    /// Logical cores available to the process.
    public static var coreCount: Int { NIOCore.System.coreCount }
}
