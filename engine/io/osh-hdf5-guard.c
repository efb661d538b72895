/* The HDF5 guard (osh-hdf5-guard.h): a child program reads the file first, under a deadline.
 *
 * One request per child. The file's bytes are not sent: they sit in a memfd (shared memory
 * whose size is sealed) of which the child gets a read-only descriptor and which it maps
 * read-only (osh-file-bytes.c; bytes_fd below seals its own copies against writing). Requests and
 * answers go over a socket (not a pipe: send with MSG_NOSIGNAL cannot kill the parent with
 * SIGPIPE when the child dies early):
 *   parent → child: "OSHG", u32 format, u32 read mode, u64 name length, u64 size, name
 *   child → parent: 'P', u64 work   — about to do work proportional to `work` bytes
 *                   'M', u64 length, the weight map (osh-weights-by-offset.h), when the request
 *                        asked for it (GUARD_WANT_MAP in the read mode) and the read succeeded
 *                        with every weight's place known
 *                   'R', i32 error code, the message (up to OSH_ERROR_MESSAGE_MAX - 1 bytes)
 * The deadline follows the work: a short idle allowance that each 'P' renews, plus time for
 * the bytes it announces. A file that makes HDF5 spin announces nothing more and is stopped
 * within the allowance; a large file announces its datasets one by one and keeps its time.
 * The child is started with posix_spawn (no fork of a possibly multi-threaded, possibly
 * large caller) and dies with its parent (PR_SET_PDEATHSIG). */
#define _GNU_SOURCE
#include "osh-hdf5-guard.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "osh-formats.h"
#include "osh-hdf5-util.h"
#include "osh-weights-by-offset.h"

extern char **environ;

#define GUARD_MAGIC "OSHG"
#define GUARD_CHILD_FD 3
#define GUARD_BYTES_FD 4
#define GUARD_MAX_NAME 4096
/* Or'ed into the request's read mode: send the weight map with a successful answer. */
#define GUARD_WANT_MAP 0x100u
/* The largest weight map the parent takes (osh-weights-by-offset.h). */
#define GUARD_MAX_MAP_BYTES ((uint64_t) OSH_WEIGHT_MAP_MAX_BYTES)

static char *guard_exe;
static double guard_deadline;

void
osh_hdf5_guard_enable (const char *exe)
{
  free (guard_exe);
  guard_exe = NULL;
  if (!exe)
    return;
  /* The file itself, not the link: under valgrind /proc/self/exe is valgrind, while readlink
   * of it gives the program (valgrind answers that call for its client). */
  char target[4096];
  ssize_t n = strcmp (exe, "/proc/self/exe") == 0 ? readlink (exe, target, sizeof target - 1) : -1;
  if (n > 0)
    target[n] = '\0';
  guard_exe = strdup (n > 0 ? target : exe);
}

bool
osh_hdf5_guard_enable_beside (const char *helper)
{
  char self[4096];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n > 0)
    {
      self[n] = '\0';
      char *slash = strrchr (self, '/');
      char path[sizeof self + 256];
      if (slash && strchr (helper, '/') == NULL
          && snprintf (path, sizeof path, "%.*s/%s", (int) (slash - self), self, helper)
                 < (int) sizeof path
          && access (path, X_OK) == 0)
        {
          osh_hdf5_guard_enable (path);
          return true;
        }
    }
  osh_hdf5_guard_enable ("/proc/self/exe");
  return false;
}

bool
osh_hdf5_guard_enabled (void)
{
  return guard_exe != NULL;
}

void
osh_hdf5_guard_set_deadline (double seconds)
{
  guard_deadline = seconds > 0 ? seconds : 0;
}

/* The child's start (exec, dynamic linking of a GTK program) is not the file's doing: it
 * gets its own generous allowance. */
#define START_SECONDS 15.0
/* Between two announcements of work: HDF5 opens a file and walks a dataset's header in
 * milliseconds, so 1.5 s of silence means it is stuck (also on a machine at load 10). */
#define IDLE_SECONDS 1.5
/* Time granted per announced byte: 16 MiB/s, far below what reading or decompressing takes. */
#define SECONDS_PER_BYTE (1.0 / (16.0 * 1024 * 1024))

/* A fixed deadline for the whole check (tests, OFFSHOOT_HDF5_DEADLINE), or 0: the work-based
 * one. */
static double
fixed_deadline (void)
{
  const char *env = getenv ("OFFSHOOT_HDF5_DEADLINE");
  double s = env ? strtod (env, NULL) : 0;
  return s > 0 ? s : guard_deadline;
}

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* ---- the child ---- */

static bool
read_all (int fd, void *buf, size_t n)
{
  char *p = buf;
  while (n > 0)
    {
      ssize_t r = read (fd, p, n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return false;
      p += r;
      n -= (size_t) r;
    }
  return true;
}

static bool
write_all (int fd, const void *buf, size_t n)
{
  const char *p = buf;
  while (n > 0)
    {
      ssize_t w = send (fd, p, n, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return false;
      p += w;
      n -= (size_t) w;
    }
  return true;
}

static int progress_fd = -1;

/* The readers' announcement of work (osh_h5_set_progress), passed on to the parent. */
static void
announce (uint64_t work, void *data)
{
  (void) data;
  char msg[9] = { 'P' };
  memcpy (msg + 1, &work, 8);
  write_all (progress_fd, msg, sizeof msg);
}

/* Reads one request and answers it; the answer is the result of the very reader the parent
 * will run (without shape inference, which does not touch HDF5), in OSH_READ_CHECK mode when
 * the parent reads everything: contiguous weights are only checked to lie in the file. */
static int
serve (int fd, int bytes_fd)
{
  char magic[4];
  uint32_t format = 0, mode = 0;
  uint64_t name_len = 0, size = 0;
  if (!read_all (fd, magic, 4) || memcmp (magic, GUARD_MAGIC, 4) != 0 || !read_all (fd, &format, 4)
      || !read_all (fd, &mode, 4) || !read_all (fd, &name_len, 8) || !read_all (fd, &size, 8)
      || name_len > GUARD_MAX_NAME || size > SIZE_MAX - 1)
    return 2;
  bool want_map = (mode & GUARD_WANT_MAP) != 0;
  mode &= ~GUARD_WANT_MAP;
  if (mode > OSH_READ_CHECK)
    return 2;
  char name[GUARD_MAX_NAME + 1];
  if (!read_all (fd, name, name_len))
    return 2;
  name[name_len] = '\0';
  /* size + 1: the parent put a NUL after the bytes, as osh_model_load does. */
  const char *data = mmap (NULL, (size_t) size + 1, PROT_READ, MAP_PRIVATE, bytes_fd, 0);
  if (data == MAP_FAILED)
    return 2;
  progress_fd = fd;
  osh_h5_set_progress (announce, NULL);
  announce (0, NULL);
  OshError err = { 0 };
  OshGraph *g = NULL;
  OshWeightMap map = { 0 };
  if (want_map && mode == OSH_READ_CHECK && format == OSH_FORMAT_KERAS3)
    g = osh_keras3_read_check_map (name, data, size, &map, &err);
  else if (want_map && mode == OSH_READ_CHECK && format == OSH_FORMAT_H5)
    g = osh_h5_read_check_map (name, data, size, &map, &err);
  else if (format == OSH_FORMAT_H5)
    g = osh_h5_read_mode (name, data, size, (OshReadMode) mode, NULL, &err);
  else if (format == OSH_FORMAT_KERAS3)
    g = osh_keras3_read_mode (name, data, size, (OshReadMode) mode, NULL, &err);
  else
    osh_fail (&err, OSH_ERR_USAGE, "%s: the HDF5 guard reads only .h5 and .keras files", name);
  if (g)
    osh_error_clear (&err);
  osh_graph_free (g);
  bool read_ok = g != NULL;
  osh_h5_set_progress (NULL, NULL);
  munmap ((void *) data, (size_t) size + 1);
  bool ok = true;
  if (read_ok && map.n > 0 && !map.incomplete)
    {
      size_t len = 0;
      char *encoded = osh_weight_map_encode (&map, &len);
      char map_head[9] = { 'M' };
      uint64_t len64 = len;
      memcpy (map_head + 1, &len64, 8);
      /* Not sent when it cannot be: the parent then reads the weights with HDF5. */
      if (encoded && len64 <= GUARD_MAX_MAP_BYTES)
        ok = write_all (fd, map_head, sizeof map_head) && write_all (fd, encoded, len);
      free (encoded);
    }
  osh_weight_map_clear (&map);
  char head[5] = { 'R' };
  int32_t code = err.code;
  memcpy (head + 1, &code, 4);
  ok = ok && write_all (fd, head, sizeof head) && write_all (fd, err.message, strlen (err.message));
  return ok ? 0 : 2;
}

int
osh_hdf5_guard_child_main (int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], OSH_HDF5_GUARD_ARG) != 0)
    return -1;
  if (argc != 4)
    return 2;
  int fd = atoi (argv[2]);
  pid_t parent = (pid_t) atol (argv[3]);
  /* A hung child must not outlive a window that was closed while it ran. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != parent)
    return 2;
  int status = serve (fd, GUARD_BYTES_FD);
  close (fd);
  close (GUARD_BYTES_FD);
  return status;
}

/* ---- the parent ---- */

/* The bytes in a sealed memfd, followed by a NUL: the child maps exactly what the parent
 * reads, and neither side can change it afterwards. */
static int
bytes_fd (const void *data, size_t size, OshError *err)
{
  int fd = memfd_create ("offshoot-hdf5-guard", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    {
      osh_fail (err, OSH_ERR_IO, "cannot make shared memory for the HDF5 guard: %s",
                strerror (errno));
      return -1;
    }
  const char *p = data;
  size_t left = size;
  while (left > 0)
    {
      ssize_t w = write (fd, p, left);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        {
          osh_fail (err, OSH_ERR_IO, "cannot fill shared memory for the HDF5 guard (%zu bytes): %s",
                    size, w < 0 ? strerror (errno) : "short write");
          close (fd);
          return -1;
        }
      p += w;
      left -= (size_t) w;
    }
  if (write (fd, "", 1) != 1
      || fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
    {
      osh_fail (err, OSH_ERR_IO, "cannot seal shared memory for the HDF5 guard: %s",
                strerror (errno));
      close (fd);
      return -1;
    }
  return fd;
}

static pid_t
spawn_child (int *sock_out, int bytes, OshError *err)
{
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    {
      osh_fail (err, OSH_ERR_IO, "cannot make a socket for the HDF5 guard: %s", strerror (errno));
      return -1;
    }
  /* Moved above the child's numbers so that dup2 onto them always clears close-on-exec. */
  int high = fcntl (sv[1], F_DUPFD_CLOEXEC, GUARD_BYTES_FD + 1);
  int high_bytes = fcntl (bytes, F_DUPFD_CLOEXEC, GUARD_BYTES_FD + 1);
  close (sv[1]);
  if (high < 0 || high_bytes < 0)
    {
      close (sv[0]);
      if (high >= 0)
        close (high);
      if (high_bytes >= 0)
        close (high_bytes);
      osh_fail (err, OSH_ERR_IO, "cannot set up the HDF5 guard: %s", strerror (errno));
      return -1;
    }
  char fd_arg[16], pid_arg[24];
  snprintf (fd_arg, sizeof fd_arg, "%d", GUARD_CHILD_FD);
  snprintf (pid_arg, sizeof pid_arg, "%ld", (long) getpid ());
  char *argv[] = { guard_exe, (char *) OSH_HDF5_GUARD_ARG, fd_arg, pid_arg, NULL };
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_adddup2 (&actions, high, GUARD_CHILD_FD);
  posix_spawn_file_actions_adddup2 (&actions, high_bytes, GUARD_BYTES_FD);
  pid_t pid = -1;
  int rc = posix_spawn (&pid, guard_exe, &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&actions);
  close (high);
  close (high_bytes);
  if (rc != 0)
    {
      close (sv[0]);
      osh_fail (err, OSH_ERR_IO, "cannot start the HDF5 guard '%s': %s", guard_exe, strerror (rc));
      return -1;
    }
  fcntl (sv[0], F_SETFL, fcntl (sv[0], F_GETFL) | O_NONBLOCK);
  *sock_out = sv[0];
  return pid;
}

typedef struct
{
  const char *chunks[3];
  size_t lengths[3];
  int chunk;
  size_t offset;
} Outbox;

/* Sends what the socket takes now; false once everything is sent or the child stopped reading. */
static bool
send_some (int fd, Outbox *o)
{
  while (o->chunk < 3)
    {
      size_t left = o->lengths[o->chunk] - o->offset;
      if (left == 0)
        {
          o->chunk++;
          o->offset = 0;
          continue;
        }
      ssize_t w = send (fd, o->chunks[o->chunk] + o->offset, left, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return true;
      if (w <= 0)
        {
          o->chunk = 3; /* the child is gone or refused: its exit status will tell */
          break;
        }
      o->offset += (size_t) w;
    }
  shutdown (fd, SHUT_WR);
  return false;
}

bool
osh_hdf5_guard_check (const char *name, OshFormat format, const void *data, size_t size,
                      OshError *err)
{
  return osh_hdf5_guard_check_mode (name, format, OSH_READ_ALL, data, size, -1, err);
}

bool
osh_hdf5_guard_check_mode (const char *name, OshFormat format, OshReadMode mode, const void *data,
                           size_t size, int fd, OshError *err)
{
  return osh_hdf5_guard_check_map (name, format, mode, data, size, fd, NULL, err);
}

/* What the parent has received: progress messages are consumed as they come, the weight map
 * is decoded into `map` once whole, and the answer 'R' stays at the start of `buf`. */
typedef struct
{
  char *buf;
  size_t got, capacity;
  OshWeightMap *map; /* NULL: no map was asked for, so none may come */
  bool map_received, answered, malformed;
} Inbox;

/* Room for `more` bytes after what is held (the answer needs at most 5 + a message). */
static bool
inbox_reserve (Inbox *in, size_t more)
{
  if (more <= in->capacity - in->got)
    return true;
  size_t capacity = in->capacity * 2 > in->got + more ? in->capacity * 2 : in->got + more;
  char *grown = realloc (in->buf, capacity);
  if (!grown)
    return false;
  in->buf = grown;
  in->capacity = capacity;
  return true;
}

/* Consumes the whole messages at the start of the inbox; *work gets the last 'P' (or stays). */
static void
inbox_parse (Inbox *in, const char *name, uint64_t *work, bool *renew)
{
  while (in->got > 0 && !in->answered && !in->malformed)
    {
      size_t whole;
      if (in->buf[0] == 'P')
        {
          if (in->got < 9)
            return;
          memcpy (work, in->buf + 1, 8);
          *renew = true;
          whole = 9;
        }
      else if (in->buf[0] == 'M')
        {
          if (in->got < 9)
            return;
          uint64_t len;
          memcpy (&len, in->buf + 1, 8);
          /* A map nobody asked for, a second one, or one over the bound: the child is not
           * the program the parent started, or is no longer. */
          if (!in->map || in->map_received || len > GUARD_MAX_MAP_BYTES)
            {
              in->malformed = true;
              return;
            }
          if (in->got - 9 < len)
            return;
          OshError ignored = { 0 };
          in->malformed =
              !osh_weight_map_decode (name, in->buf + 9, (size_t) len, in->map, &ignored);
          in->map_received = !in->malformed;
          whole = 9 + (size_t) len;
        }
      else
        {
          in->answered = true;
          return;
        }
      memmove (in->buf, in->buf + whole, in->got - whole);
      in->got -= whole;
    }
}

/* The check itself; `map` (or NULL) is filled as the child's message comes. */
static bool
check (const char *name, OshFormat format, OshReadMode mode, const void *data, size_t size, int fd,
       OshWeightMap *map, OshError *err)
{
  int bytes = fd >= 0 ? fd : bytes_fd (data, size, err);
  if (bytes < 0)
    return false;
  int sock = -1;
  pid_t pid = spawn_child (&sock, bytes, err);
  if (bytes != fd)
    close (bytes);
  if (pid < 0)
    return false;

  char header[28];
  uint32_t fmt = (uint32_t) format;
  uint32_t child_mode =
      (mode == OSH_READ_GRAPH ? OSH_READ_GRAPH : OSH_READ_CHECK) | (map ? GUARD_WANT_MAP : 0);
  uint64_t name_len = strlen (name), size64 = size;
  if (name_len > GUARD_MAX_NAME)
    name_len = GUARD_MAX_NAME;
  memcpy (header, GUARD_MAGIC, 4);
  memcpy (header + 4, &fmt, 4);
  memcpy (header + 8, &child_mode, 4);
  memcpy (header + 12, &name_len, 8);
  memcpy (header + 20, &size64, 8);
  Outbox out = { { header, name, "" }, { sizeof header, (size_t) name_len, 0 }, 0, 0 };

  double fixed = fixed_deadline ();
  double start = now ();
  double end = start + (fixed > 0 ? fixed : START_SECONDS);
  /* The answer is at most 1 + 4 + message; a weight map makes the inbox grow. */
  const size_t answer_max = 5 + OSH_ERROR_MESSAGE_MAX;
  Inbox in = { malloc (answer_max), 0, answer_max, map, false, false, false };
  bool sending = true, reading = in.buf != NULL, timed_out = false;
  while (reading)
    {
      if (sending)
        sending = send_some (sock, &out);
      double left = end - now ();
      if (left <= 0)
        {
          timed_out = true;
          break;
        }
      struct pollfd p = { sock, (short) (POLLIN | (sending ? POLLOUT : 0)), 0 };
      int ms = left > 1000 ? 1000000 : (int) (left * 1000) + 1;
      if (poll (&p, 1, ms) < 0 && errno != EINTR)
        break;
      if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      /* Before the answer, room to receive a map as it comes; after it, the answer's bound. */
      if (!in.answered && in.got + 1 >= in.capacity && !inbox_reserve (&in, in.capacity))
        break;
      size_t room = in.answered ? answer_max - 1 - in.got : in.capacity - 1 - in.got;
      ssize_t r = recv (sock, in.buf + in.got, room, 0);
      if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        continue;
      if (r <= 0)
        break;
      in.got += (size_t) r;
      /* Progress messages renew the deadline; the answer is the rest of the stream. */
      uint64_t work = 0;
      bool renew = false;
      inbox_parse (&in, name, &work, &renew);
      if (renew && fixed <= 0)
        end = now () + IDLE_SECONDS + (double) work * SECONDS_PER_BYTE;
      if (in.malformed || (in.answered && in.got >= answer_max - 1))
        break;
    }
  close (sock);
  char buf[5 + OSH_ERROR_MESSAGE_MAX];
  size_t got = in.got < answer_max - 1 ? in.got : answer_max - 1;
  bool answered = in.answered, no_memory = !in.buf, malformed = in.malformed || no_memory;
  if (in.buf)
    memcpy (buf, in.buf, got);
  free (in.buf);
  if (malformed)
    {
      kill (pid, SIGKILL);
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
      return !no_memory
                 ? osh_fail (err, OSH_ERR_FORMAT,
                             "%s: the HDF5 guard process sent a malformed weight map", name)
                 : osh_fail (err, OSH_ERR_NOMEM, "%s: out of memory for the HDF5 guard", name);
    }
  if (!answered && !timed_out)
    got = 0; /* the child stopped before answering: its exit status tells why */

  /* The answer is in; the child exits at once (LSan's leak check may take a moment). */
  int status = 0;
  pid_t w = 0;
  double wait_end = now () + (fixed > 0 ? fmax (end - now (), 0) : IDLE_SECONDS + 3.0);
  while (!timed_out && (w = waitpid (pid, &status, WNOHANG)) == 0)
    {
      if (now () >= wait_end)
        timed_out = true;
      else
        nanosleep (&(struct timespec){ 0, 2000000 }, NULL);
    }
  if (timed_out)
    {
      kill (pid, SIGKILL);
      while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
      if (fixed > 0)
        return osh_fail (err, OSH_ERR_TIMEOUT,
                         "%s: HDF5 did not finish reading the file within %.0f s; the file is "
                         "probably corrupted",
                         name, fixed);
      return osh_fail (err, OSH_ERR_TIMEOUT,
                       "%s: HDF5 stopped making progress reading the file (stopped after %.1f s); "
                       "the file is probably corrupted",
                       name, now () - start);
    }
  if (w < 0 && errno == ECHILD && got >= 5)
    status = 0; /* reaped by someone else (SIGCHLD ignored): the complete answer stands */
  else if (w < 0)
    return osh_fail (err, OSH_ERR_IO, "%s: lost the HDF5 guard process: %s", name,
                     strerror (errno));
  if (WIFSIGNALED (status))
    return osh_fail (
        err, OSH_ERR_FORMAT,
        "%s: HDF5 crashed reading the file (signal %d, %s); the file is probably corrupted", name,
        WTERMSIG (status), strsignal (WTERMSIG (status)));
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0 || got < 5 || buf[0] != 'R')
    return osh_fail (err, OSH_ERR_IO, "%s: the HDF5 guard process '%s' failed (exit status %d)",
                     name, guard_exe, WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  int32_t code;
  memcpy (&code, buf + 1, 4);
  if (code == OSH_OK)
    return true;
  buf[got] = '\0';
  if (code < 0 || code >= OSH_ERR_COUNT)
    code = OSH_ERR_FORMAT;
  return osh_fail (err, (OshErrorCode) code, "%s", buf + 5);
}

bool
osh_hdf5_guard_check_map (const char *name, OshFormat format, OshReadMode mode, const void *data,
                          size_t size, int fd, OshWeightMap *map, OshError *err)
{
  if (map)
    {
      osh_weight_map_clear (map);
      map->incomplete = true; /* until the child's map has come */
    }
  if (!guard_exe || (format != OSH_FORMAT_H5 && format != OSH_FORMAT_KERAS3))
    return true;
  bool want_map = map && mode != OSH_READ_GRAPH;
  if (check (name, format, mode, data, size, fd, want_map ? map : NULL, err))
    return true;
  if (map)
    {
      osh_weight_map_clear (map); /* nothing of a failed check is used */
      map->incomplete = true;
    }
  return false;
}
