#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import WebSecurity

/// `tally hash-password`: prints the bcrypt hash of a password for
/// `basic_auth_users` in a web config, as `htpasswd -nBC 10 "" | tr -d ':\n'` would.
struct HashPasswordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password",
        abstract: "Print the bcrypt hash of a password, for basic_auth_users in a web config.",
        discussion: """
        The password is read from the terminal (asked twice, not echoed) or, when standard input is \
        not a terminal, from its first line. Higher costs make every password check (one per new \
        credential; results are cached) and every guess slower.
        """
    )

    @Option(name: .long, help: "The bcrypt cost, 4 to 31: each step doubles the work.")
    var cost: Int = 10

    func run() throws {
        guard PasswordHashing.costs.contains(cost) else {
            fail("--cost: must be between \(PasswordHashing.costs.lowerBound) and \(PasswordHashing.costs.upperBound)")
        }
        let password: String
        if isatty(STDIN_FILENO) != 0 {
            let first = readHidden(prompt: "Password: ")
            let second = readHidden(prompt: "Again: ")
            guard first == second else { fail("the two passwords differ") }
            password = first
        } else {
            password = readLine(strippingNewline: true) ?? ""
        }
        guard !password.isEmpty else { fail("empty password") }
        guard let hash = PasswordHashing.bcrypt(password, cost: cost) else { fail("--cost: out of range") }
        print(hash)
    }

    /// A line from the terminal with echo off.
    private func readHidden(prompt: String) -> String {
        _ = prompt.withCString { fputs($0, stderr) }
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        let line = readLine(strippingNewline: true) ?? ""
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
        _ = "\n".withCString { fputs($0, stderr) }
        return line
    }
}
