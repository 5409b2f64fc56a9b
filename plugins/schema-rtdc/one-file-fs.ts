// A file system for h5wasm's Emscripten FS that holds exactly one read-only file, read
// straight from an open descriptor: HDF5 sees that file and nothing of the host (h5wasm's
// browser build has only its in-memory FS besides this mount). Reads go to the descriptor
// at the offset HDF5 asks for, so the file is never copied into memory.
import { readSync } from 'node:fs';

/** The parts of Emscripten's FS this mount uses. */
export interface EmscriptenFs {
  mkdir(path: string): unknown;
  mount(type: unknown, opts: Record<string, unknown>, mountpoint: string): unknown;
  createNode(parent: FsNode | null, name: string, mode: number, dev: number): FsNode;
  ErrnoError: new (errno: number) => Error;
  open: (path: string, flags: number | string, mode?: number) => unknown;
}

/** An Emscripten FS node, as far as this mount touches it. */
export interface FsNode {
  id: number;
  mode: number;
  node_ops: unknown;
  stream_ops: unknown;
  contents: Record<string, FsNode> | undefined;
  size: number;
}

interface Stream {
  node: FsNode;
  position: number;
}

const DIR_MODE = 0o40555;
const FILE_MODE = 0o100444;
// Emscripten's errno numbers (wasi): ENOENT 44, EPERM 63, EROFS 69, EINVAL 28.
const ENOENT = 44;
const EPERM = 63;
const EINVAL = 28;

/**
 * Mounts `fd` as the only file of a new directory.
 * @param fs - h5wasm's `FS`
 * @param fd - an open, readable descriptor of a regular file
 * @param size - the file's size in bytes
 * @param directory - where to mount (created), e.g. `/input`
 * @param name - the file's name in that directory
 * @returns the path HDF5 opens
 */
export function mountOneFile(fs: EmscriptenFs, fd: number, size: number, directory: string, name: string): string {
  const fail = (errno: number) => (): never => {
    throw new fs.ErrnoError(errno);
  };
  const node_ops = {
    getattr(node: FsNode) {
      const time = new Date(0);
      return { dev: 1, ino: node.id, mode: node.mode, nlink: 1, uid: 0, gid: 0, rdev: 0, size: node.size, atime: time, mtime: time, ctime: time, blksize: 4096, blocks: Math.ceil(node.size / 4096) };
    },
    setattr: fail(EPERM),
    lookup: fail(ENOENT),
    mknod: fail(EPERM),
    rename: fail(EPERM),
    unlink: fail(EPERM),
    rmdir: fail(EPERM),
    symlink: fail(EPERM),
    readdir(node: FsNode) {
      return ['.', '..', ...Object.keys(node.contents ?? {})];
    },
  };
  const stream_ops = {
    read(_stream: Stream, buffer: Uint8Array, offset: number, length: number, position: number): number {
      if (position >= size) return 0;
      return readSync(fd, buffer, offset, Math.min(length, size - position), position);
    },
    write: fail(EPERM),
    llseek(stream: Stream, offset: number, whence: number): number {
      const position = whence === 1 ? stream.position + offset : whence === 2 ? size + offset : offset;
      if (position < 0) throw new fs.ErrnoError(EINVAL);
      return position;
    },
  };
  const make = (parent: FsNode | null, nodeName: string, mode: number): FsNode => {
    const node = fs.createNode(parent, nodeName, mode, 0);
    node.mode = mode;
    node.node_ops = node_ops;
    node.stream_ops = stream_ops;
    if (mode === DIR_MODE) {
      node.contents = {};
      node.size = 4096;
    } else {
      node.size = size;
    }
    if (parent?.contents) parent.contents[nodeName] = node;
    return node;
  };
  const type = {
    mount(): FsNode {
      const root = make(null, '/', DIR_MODE);
      make(root, name, FILE_MODE);
      return root;
    },
  };
  fs.mkdir(directory);
  fs.mount(type, {}, directory);
  return `${directory}/${name}`;
}
