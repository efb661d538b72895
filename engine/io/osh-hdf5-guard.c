/* The HDF5 guard (osh-hdf5-guard.h): a child program reads the file first, under a deadline.
 *
 * One request per child, over a socket (not a pipe: send with MSG_NOSIGNAL cannot kill the
 * parent with SIGPIPE when the child dies early):
 *   parent → child: "OSHG", u32 format, u64 name length, u64 size, name, bytes
 *   child → parent: i32 error code, then the message (up to OSH_ERROR_MESSAGE_MAX - 1 bytes)
 * The child is started with posix_spawn (no fork of a possibly multi-threaded, possibly
 * large caller) and dies with its parent (PR_SET_PDEATHSIG). */
#define _GNU_SOURCE
#include "osh-hdf5-guard.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "osh-formats.h"

extern char **environ;

#define GUARD_MAGIC "OSHG"
#define GUARD_CHILD_FD 3
#define GUARD_MAX_NAME 4096

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
osh_hdf5_guard_enabled (void)
{
  return guard_exe != NULL;
}

void
osh_hdf5_guard_set_deadline (double seconds)
{
  guard_deadline = seconds > 0 ? seconds : 0;
}

/* 20 s plus 1 s per 4 MiB: reading is far faster than that even on a busy machine, and a
 * file HDF5 mishandles is stopped within half a minute. */
static double
deadline_for (size_t size)
{
  const char *env = getenv ("OFFSHOOT_HDF5_DEADLINE");
  double s = env ? strtod (env, NULL) : 0;
  if (s > 0)
    return s;
  if (guard_deadline > 0)
    return guard_deadline;
  return 20.0 + (double) size / (4.0 * 1024 * 1024);
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

/* Reads one request and answers it; the answer is the result of the very reader the parent
 * will run (without shape inference, which does not touch HDF5). */
static int
serve (int fd)
{
  char magic[4];
  uint32_t format = 0;
  uint64_t name_len = 0, size = 0;
  if (!read_all (fd, magic, 4) || memcmp (magic, GUARD_MAGIC, 4) != 0 || !read_all (fd, &format, 4)
      || !read_all (fd, &name_len, 8) || !read_all (fd, &size, 8) || name_len > GUARD_MAX_NAME
      || size > SIZE_MAX - 1)
    return 2;
  char *name = malloc ((size_t) name_len + 1);
  char *data = malloc ((size_t) size + 1);
  OshError err = { 0 };
  if (!name || !data)
    osh_fail (&err, OSH_ERR_NOMEM, "out of memory reading %llu bytes to check",
              (unsigned long long) size);
  else if (!read_all (fd, name, name_len) || !read_all (fd, data, size))
    {
      free (name);
      free (data);
      return 2;
    }
  else
    {
      name[name_len] = '\0';
      data[size] = '\0';
      OshGraph *g = NULL;
      if (format == OSH_FORMAT_H5)
        g = osh_h5_read (name, data, size, &err);
      else if (format == OSH_FORMAT_KERAS3)
        g = osh_keras3_read (name, data, size, &err);
      else
        osh_fail (&err, OSH_ERR_USAGE, "%s: the HDF5 guard reads only .h5 and .keras files", name);
      if (g)
        osh_error_clear (&err);
      osh_graph_free (g);
    }
  free (name);
  free (data);
  int32_t code = err.code;
  bool ok = write_all (fd, &code, 4) && write_all (fd, err.message, strlen (err.message));
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
  int status = serve (fd);
  close (fd);
  return status;
}

/* ---- the parent ---- */

static pid_t
spawn_child (int *sock_out, OshError *err)
{
  int sv[2];
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    {
      osh_fail (err, OSH_ERR_IO, "cannot make a socket for the HDF5 guard: %s", strerror (errno));
      return -1;
    }
  /* Moved above GUARD_CHILD_FD so that dup2 onto it always clears close-on-exec. */
  int high = fcntl (sv[1], F_DUPFD_CLOEXEC, GUARD_CHILD_FD + 1);
  close (sv[1]);
  if (high < 0)
    {
      close (sv[0]);
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
  pid_t pid = -1;
  int rc = posix_spawn (&pid, guard_exe, &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&actions);
  close (high);
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
  if (!guard_exe || (format != OSH_FORMAT_H5 && format != OSH_FORMAT_KERAS3))
    return true;
  int sock = -1;
  pid_t pid = spawn_child (&sock, err);
  if (pid < 0)
    return false;

  char header[24];
  uint32_t fmt = (uint32_t) format;
  uint64_t name_len = strlen (name), size64 = size;
  if (name_len > GUARD_MAX_NAME)
    name_len = GUARD_MAX_NAME;
  memcpy (header, GUARD_MAGIC, 4);
  memcpy (header + 4, &fmt, 4);
  memcpy (header + 8, &name_len, 8);
  memcpy (header + 16, &size64, 8);
  Outbox out = { { header, name, data }, { sizeof header, (size_t) name_len, size }, 0, 0 };

  double limit = deadline_for (size);
  double end = now () + limit;
  char reply[4 + OSH_ERROR_MESSAGE_MAX];
  size_t got = 0;
  bool sending = true, reading = true, timed_out = false;
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
      ssize_t r = recv (sock, reply + got, sizeof reply - 1 - got, 0);
      if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        continue;
      if (r <= 0 || (got += (size_t) r) == sizeof reply - 1)
        reading = false;
    }
  close (sock);

  /* The answer is in; the child exits at once (LSan's leak check may take a moment). */
  int status = 0;
  pid_t w = 0;
  while (!timed_out && (w = waitpid (pid, &status, WNOHANG)) == 0)
    {
      if (now () >= end)
        timed_out = true;
      else
        nanosleep (&(struct timespec){ 0, 2000000 }, NULL);
    }
  if (timed_out)
    {
      kill (pid, SIGKILL);
      while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
      return osh_fail (
          err, OSH_ERR_TIMEOUT,
          "%s: HDF5 did not finish reading the file within %.0f s; the file is probably "
          "corrupted",
          name, limit);
    }
  if (w < 0 && errno == ECHILD && got >= 4)
    status = 0; /* reaped by someone else (SIGCHLD ignored): the complete answer stands */
  else if (w < 0)
    return osh_fail (err, OSH_ERR_IO, "%s: lost the HDF5 guard process: %s", name,
                     strerror (errno));
  if (WIFSIGNALED (status))
    return osh_fail (
        err, OSH_ERR_FORMAT,
        "%s: HDF5 crashed reading the file (signal %d, %s); the file is probably corrupted", name,
        WTERMSIG (status), strsignal (WTERMSIG (status)));
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0 || got < 4)
    return osh_fail (err, OSH_ERR_IO, "%s: the HDF5 guard process '%s' failed (exit status %d)",
                     name, guard_exe, WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  int32_t code;
  memcpy (&code, reply, 4);
  if (code == OSH_OK)
    return true;
  reply[got] = '\0';
  if (code < 0 || code >= OSH_ERR_COUNT)
    code = OSH_ERR_FORMAT;
  return osh_fail (err, (OshErrorCode) code, "%s", reply + 4);
}
