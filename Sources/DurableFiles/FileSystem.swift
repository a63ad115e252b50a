#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

package func systemErrorMessage(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// Thin, typed wrappers over the POSIX calls the storage needs: whole-buffer
/// writes, positioned reads, fsync of files and directories, atomic renames.
/// Everything here is blocking I/O, called from storage threads, never from
/// an event loop.
package enum FileSystem {
    package static func fail(_ operation: String, _ path: String) -> StorageError {
        StorageError(.io(operation: operation, errno: errno), path: path)
    }

    package static func open(_ path: String, flags: Int32, mode: mode_t = 0o644) throws(StorageError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw fail("open", path) }
        return fd
    }

    /// Writes all of `bytes` at the file's current position.
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress!.advanced(by: done), bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("write", path)
            }
            if n == 0 { throw StorageError(.io(operation: "write", errno: EIO), path: path) }
            done += n
        }
    }

    /// Writes all of `bytes` at `offset`, leaving the file position alone.
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int, path: String) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress!.advanced(by: done), bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("write", path)
            }
            if n == 0 { throw StorageError(.io(operation: "write", errno: EIO), path: path) }
            done += n
        }
    }

    package static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(StorageError) {
        guard !bytes.isEmpty else { return }
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(StorageError) in try writeAll(fd, raw, path: path) }
        }
        try result.get()
    }

    /// Reads exactly `count` bytes at `offset`; fewer available is corruption.
    package static func read(_ fd: Int32, offset: Int, count: Int, path: String) throws(StorageError) -> [UInt8] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress!.advanced(by: done), count - done, off_t(offset + done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("read", path)
            }
            if n == 0 { throw StorageError(.corrupt("file ends early"), path: path, offset: offset + done) }
            done += n
        }
        return bytes
    }

    /// The whole file.
    package static func readFile(_ path: String) throws(StorageError) -> [UInt8] {
        let fd = try open(path, flags: O_RDONLY)
        defer { close(fd) }
        return try read(fd, offset: 0, count: try size(fd, path: path), path: path)
    }

    package static func size(_ fd: Int32, path: String) throws(StorageError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw fail("stat", path) }
        return Int(info.st_size)
    }

    package static func sync(_ fd: Int32, path: String) throws(StorageError) {
        guard fsync(fd) == 0 else { throw fail("fsync", path) }
    }

    /// fsyncs a directory, so the names created or renamed in it are durable.
    package static func syncDirectory(_ path: String) throws(StorageError) {
        let fd = try open(path, flags: O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try sync(fd, path: path)
    }

    /// Writes a whole file durably: contents fsynced before it is closed.
    package static func writeFile(_ path: String, _ bytes: [UInt8]) throws(StorageError) {
        let fd = try open(path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
        try sync(fd, path: path)
    }

    package static func rename(_ from: String, _ to: String) throws(StorageError) {
        guard Glibc.rename(from, to) == 0 else { throw fail("rename to \(to)", from) }
    }

    package static func makeDirectory(_ path: String) throws(StorageError) {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw fail("mkdir", path) }
    }

    package static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    package static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The names in a directory, sorted, without `.` and `..`.
    package static func list(_ path: String) throws(StorageError) -> [String] {
        guard let dir = opendir(path) else { throw fail("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Removes a file or a directory tree.
    package static func removeTree(_ path: String) throws(StorageError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw fail("stat", path)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in try list(path) { try removeTree(path + "/" + name) }
            guard rmdir(path) == 0 else { throw fail("rmdir", path) }
        } else {
            guard unlink(path) == 0 else { throw fail("unlink", path) }
        }
    }

    /// Bytes a directory tree takes (file sizes).
    package static func treeSize(_ path: String) -> Int {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { return Int(info.st_size) }
        let names = (try? list(path)) ?? []
        return names.reduce(0) { $0 + treeSize(path + "/" + $1) }
    }

    package static func truncate(_ path: String, to length: Int) throws(StorageError) {
        guard Glibc.truncate(path, off_t(length)) == 0 else { throw fail("truncate", path) }
    }
}
