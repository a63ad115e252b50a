import ArgumentParser
import Foundation
import TallyApp

/// `tally check-config FILE…`: loads config files as `tally serve` would and
/// reports every problem in each (file, line, key, why), so that a config
/// can be checked before it is deployed (a ConfigMap, a package's conffile).
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check tally.yaml files (and web config files) without starting tally.",
        discussion: """
        Each FILE is read as `tally serve --config FILE` reads it; with --web-config, as a web config \
        (`http.web_config`, `--web-config`). Prints "FILE: ok", or each problem on its own line on stderr \
        as FILE:LINE: KEY: WHY. Exits 1 when any file has a problem.
        """
    )

    @Argument(help: ArgumentHelp("The files to check.", valueName: "file"))
    var files: [String]

    @Flag(name: .long, help: "Check the files as web config files (users, tokens, TLS) instead.")
    var webConfig = false

    func run() throws {
        var failed = false
        for file in files {
            do {
                if webConfig {
                    _ = try WebConfigLoader.load(file: file)
                } else {
                    _ = try ConfigLoader.load(yaml: try readFile(file), file: file)
                }
                print("\(file): ok")
            } catch let error as ConfigError {
                failed = true
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
            } catch {
                failed = true
                FileHandle.standardError.write(Data("\(file): cannot read: \(error)\n".utf8))
            }
        }
        if failed { throw ExitCode(1) }
    }
}
