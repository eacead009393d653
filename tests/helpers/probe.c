/* tests/helpers/probe.c: a static multi-call probe for nook's integration tests.
 *
 * Built with -static (build/probe) and bind-mounted into containers (-v PROBE:/probe:ro),
 * so it needs nothing from the image. Each subcommand prints simple `key=value` lines and
 * exits 0 when the operation it names succeeded, 1 when it failed, 2 on usage errors.
 * Errors are printed by name (EPERM, ENOSYS, ...), so tests compare strings.
 *
 *   status       CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp from /proc/self/status
 *   mount        mount("none", "/mnt", "tmpfs") -> mount=ok|ERRNO (unmounted again if ok)
 *   keyctl       keyctl(KEYCTL_GET_KEYRING_ID, session) -> keyctl=ok|ERRNO
 *   userns       unshare(CLONE_NEWUSER) -> unshare=ok|ERRNO; if ok, write "0 0 1" to
 *                /proc/self/uid_map -> uid_map=ok|ERRNO
 *   fds          fds=0,1,2 (open fds, without the one used to list), then fd.N=target lines
 *   tiocsti      ioctl(0, TIOCSTI, "x") -> tiocsti=ok|ERRNO
 *   zombie       fork a child that exits at once; once it is a zombie, exit without
 *                reaping it, leaving the zombie to the init -> zombie_pid=N
 *   ptrace       ptrace(PTRACE_ATTACH, 1) -> ptrace=ok|ERRNO (detached again if ok)
 *   chown        create /tmp/p, chown it to 1000:1000 -> chown=ok|ERRNO
 *   read FILE    read FILE -> read=ok bytes=N | read=ERRNO
 *   ids          uid=N gid=N euid=N egid=N groups=a,b
 *   sleep N      sleep N seconds
 *   netlink P    socket(AF_NETLINK, SOCK_RAW, P) then SOCK_DGRAM; P is audit, route or a
 *                number -> raw=ok|ERRNO dgram=ok|ERRNO (exit 0 when both opened)
 *   loopback     a TCP server on 127.0.0.1 and a client of it in this process: listen,
 *                connect, accept, send "ping", read it back -> loopback=ok|ERRNO (step=...)
 *   connect IP PORT  a TCP connection, 5 s at most -> connect=ok|ERRNO (ECONNREFUSED,
 *                ENETUNREACH, ETIMEDOUT...: a network error, told apart from other failures)
 *   udpecho PORT a UDP echo server on 0.0.0.0:PORT, forever (prints "udpecho=ready")
 *   drop UID GID apt's privilege drop: setgroups([GID]), setresgid, setresuid (all three ids)
 *                -> drop=ok|ERRNO res=R,E,S resg=R,E,S groups=a,b, then setuid(0) -> regain=ok|ERRNO
 *   fsuid UID GID FILE  setfsgid(GID), setfsuid(UID), create FILE and FILE.d -> create=ok|ERRNO
 *                mkdir=ok|ERRNO (the fs ids go back to 0 after)
 *   i386         32-bit system calls (int $0x80) from this 64-bit program, the seccomp
 *                filter's i386 half: getpid, unshare(CLONE_NEWUSER), keyctl (as above),
 *                personality(0xffffffff) (a query) and personality(PER_LINUX32 | 1) ->
 *                i386.NAME=ok|ERRNO; i386=unavailable (exit 1) without IA32 emulation
 */
#include <poll.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *
errname (int e)
{
  static char buf[32];
  switch (e)
    {
#define E(x)                                                                           \
  case x:                                                                              \
    return #x
      E (EPERM); E (ENOENT); E (ESRCH); E (EINTR); E (EIO); E (ENXIO); E (E2BIG);
      E (ENOEXEC); E (EBADF); E (ECHILD); E (EAGAIN); E (ENOMEM); E (EACCES);
      E (EFAULT); E (EBUSY); E (EEXIST); E (EXDEV); E (ENODEV); E (ENOTDIR);
      E (EISDIR); E (EINVAL); E (ENFILE); E (EMFILE); E (ENOTTY); E (EFBIG);
      E (ENOSPC); E (ESPIPE); E (EROFS); E (EMLINK); E (EPIPE); E (ERANGE);
      E (ENOSYS); E (ELOOP); E (EOPNOTSUPP); E (EUSERS); E (EDQUOT);
      E (ENAMETOOLONG); E (ENOTEMPTY); E (ENETUNREACH); E (EADDRNOTAVAIL);
      E (ECONNREFUSED); E (EAFNOSUPPORT); E (EPROTONOSUPPORT); E (ETIMEDOUT);
      E (EHOSTUNREACH); E (ECONNRESET);
#undef E
    }
  snprintf (buf, sizeof buf, "E%d", e);
  return buf;
}

/* Prints "key=ok" or "key=ERRNO" for a call result r (< 0 means failed, errno set). */
static int
report (const char *key, long r)
{
  if (r < 0)
    {
      printf ("%s=%s\n", key, errname (errno));
      return 1;
    }
  printf ("%s=ok\n", key);
  return 0;
}

static int
do_status (void)
{
  static const char *const keys[]
      = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp" };
  char line[512];
  FILE *f = fopen ("/proc/self/status", "re");
  if (f == NULL)
    return report ("status", -1);
  while (fgets (line, sizeof line, f))
    {
      char *colon = strchr (line, ':');
      if (colon == NULL)
        continue;
      *colon = '\0';
      for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp (line, keys[i]) == 0)
          {
            char *v = colon + 1;
            v += strspn (v, " \t");
            v[strcspn (v, "\n")] = '\0';
            printf ("%s=%s\n", line, v);
          }
    }
  fclose (f);
  return 0;
}

static int
do_mount (void)
{
  int r = mount ("none", "/mnt", "tmpfs", 0, NULL);
  int rc = report ("mount", r);
  if (r == 0)
    umount2 ("/mnt", MNT_DETACH);
  return rc;
}

static int
do_keyctl (void)
{
  /* KEYCTL_GET_KEYRING_ID = 0, KEY_SPEC_SESSION_KEYRING = -3 */
  return report ("keyctl", syscall (SYS_keyctl, 0, -3, 0));
}

static int
do_userns (void)
{
  if (report ("unshare", unshare (CLONE_NEWUSER)) != 0)
    return 1;
  int fd = open ("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
  long r = fd < 0 ? -1 : write (fd, "0 0 1\n", 6);
  int saved = errno;
  if (fd >= 0)
    close (fd);
  errno = saved;
  return report ("uid_map", r);
}

static int
do_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  if (d == NULL)
    return report ("fds", -1);
  int self = dirfd (d);
  int fds[1024];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir (d)) != NULL && n < 1024)
    {
      if (e->d_name[0] == '.')
        continue;
      int fd = atoi (e->d_name);
      if (fd != self)
        fds[n++] = fd;
    }
  /* readdir of /proc/self/fd is in numeric order; sort anyway. */
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && fds[j - 1] > fds[j]; j--)
      {
        int t = fds[j];
        fds[j] = fds[j - 1];
        fds[j - 1] = t;
      }
  printf ("fds=");
  for (size_t i = 0; i < n; i++)
    printf ("%s%d", i ? "," : "", fds[i]);
  printf ("\n");
  for (size_t i = 0; i < n; i++)
    {
      char path[64], target[512];
      snprintf (path, sizeof path, "/proc/self/fd/%d", fds[i]);
      ssize_t l = readlinkat (self, path + strlen ("/proc/self/fd/"), target, sizeof target - 1);
      if (l < 0)
        l = 0;
      target[l] = '\0';
      printf ("fd.%d=%s\n", fds[i], target);
    }
  closedir (d);
  return 0;
}

static int
do_tiocsti (void)
{
  char c = 'x';
  return report ("tiocsti", ioctl (0, TIOCSTI, &c));
}

static int
do_zombie (void)
{
  pid_t pid = fork ();
  if (pid < 0)
    return report ("fork", -1);
  if (pid == 0)
    _exit (0);
  printf ("zombie_pid=%d\n", (int) pid);
  fflush (stdout);
  /* Wait until the child has exited, leaving it a zombie (WNOWAIT), then exit without
   * reaping it: the init inherits a real zombie, whatever the machine's load. */
  siginfo_t si;
  while (waitid (P_PID, (id_t) pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
    ;
  return 0;
}

static int
do_ptrace (void)
{
  long r = ptrace (PTRACE_ATTACH, 1, NULL, NULL);
  int rc = report ("ptrace", r);
  if (r == 0)
    {
      waitpid (1, NULL, __WALL);
      ptrace (PTRACE_DETACH, 1, NULL, NULL);
    }
  return rc;
}

static int
do_chown (void)
{
  int fd = open ("/tmp/p", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return report ("create", -1);
  close (fd);
  return report ("chown", chown ("/tmp/p", 1000, 1000));
}

static int
do_read (const char *path)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return report ("read", -1);
  char buf[4096];
  long total = 0;
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0)
    total += n;
  int saved = errno;
  close (fd);
  if (n < 0)
    {
      errno = saved;
      return report ("read", -1);
    }
  printf ("read=ok\nbytes=%ld\n", total);
  return 0;
}

static int
do_ids (void)
{
  gid_t groups[256];
  int n = getgroups (256, groups);
  printf ("uid=%d\ngid=%d\neuid=%d\negid=%d\ngroups=", (int) getuid (), (int) getgid (),
          (int) geteuid (), (int) getegid ());
  for (int i = 0; i < n; i++)
    printf ("%s%d", i ? "," : "", (int) groups[i]);
  printf ("\n");
  return 0;
}

static int
do_drop (const char *u, const char *g)
{
  uid_t uid = (uid_t) strtoul (u, NULL, 10);
  gid_t gid = (gid_t) strtoul (g, NULL, 10);
  int r = setgroups (1, &gid);
  if (r == 0)
    r = setresgid (gid, gid, gid);
  if (r == 0)
    r = setresuid (uid, uid, uid);
  report ("drop", r);
  uid_t a, b, c;
  gid_t x, y, z, groups[64];
  getresuid (&a, &b, &c);
  getresgid (&x, &y, &z);
  printf ("res=%d,%d,%d\nresg=%d,%d,%d\ngroups=", (int) a, (int) b, (int) c, (int) x, (int) y,
          (int) z);
  int n = getgroups (64, groups);
  for (int i = 0; i < n; i++)
    printf ("%s%d", i ? "," : "", (int) groups[i]);
  printf ("\n");
  report ("regain", setuid (0));
  return r == 0 ? 0 : 1;
}

static int
do_fsuid (const char *u, const char *g, const char *file)
{
  setfsgid ((gid_t) strtoul (g, NULL, 10));
  setfsuid ((uid_t) strtoul (u, NULL, 10));
  int fd = open (file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  report ("create", fd);
  if (fd >= 0)
    close (fd);
  char d[4096];
  snprintf (d, sizeof d, "%s.d", file);
  int r = mkdir (d, 0755);
  report ("mkdir", r);
  setfsuid (0);
  setfsgid (0);
  return fd >= 0 && r == 0 ? 0 : 1;
}

static int
do_netlink (const char *proto)
{
  int p = strcmp (proto, "audit") == 0   ? NETLINK_AUDIT
          : strcmp (proto, "route") == 0 ? NETLINK_ROUTE
                                         : atoi (proto);
  int types[2] = { SOCK_RAW, SOCK_DGRAM };
  const char *keys[2] = { "raw", "dgram" };
  int rc = 0;
  for (int i = 0; i < 2; i++)
    {
      int fd = socket (AF_NETLINK, types[i] | SOCK_CLOEXEC, p);
      rc |= report (keys[i], fd);
      if (fd >= 0)
        close (fd);
    }
  return rc;
}

static int
do_loopback (void)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof a;
  char buf[8] = { 0 };
  int srv = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), cli = -1, con = -1;
  const char *step = "socket";
  if (srv < 0)
    goto failed;
  step = "bind";
  if (bind (srv, (struct sockaddr *) &a, sizeof a) < 0)
    goto failed;
  step = "listen";
  if (listen (srv, 1) < 0 || getsockname (srv, (struct sockaddr *) &a, &len) < 0)
    goto failed;
  step = "connect";
  cli = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (cli < 0 || connect (cli, (struct sockaddr *) &a, sizeof a) < 0)
    goto failed;
  step = "accept";
  con = accept4 (srv, NULL, NULL, SOCK_CLOEXEC);
  if (con < 0)
    goto failed;
  step = "transfer";
  if (write (cli, "ping", 4) != 4 || read (con, buf, 4) != 4 || memcmp (buf, "ping", 4) != 0)
    goto failed;
  printf ("loopback=ok\nport=%d\n", ntohs (a.sin_port));
  return 0;
failed:
  printf ("loopback=%s\nstep=%s\n", errname (errno), step);
  return 1;
}

/* An x32 system call (getpid with __X32_SYSCALL_BIT): "x32=ok" where the
 * kernel has x32, else the errno (ENOSYS without x32, EPERM if a filter says
 * so); a filter that kills for it kills the probe. */
static int
do_x32 (void)
{
#if defined(__x86_64__)
  return report ("x32", syscall (0x40000000L | SYS_getpid));
#else
  printf ("x32=ENOSYS\n");
  return 1;
#endif
}

#if defined(__x86_64__)
static sigjmp_buf i386_gone;

static void
i386_fault (int sig)
{
  (void) sig;
  siglongjmp (i386_gone, 1);
}

static long
i386_syscall (long nr, long a, long b, long c)
{
  long r;
  __asm__ volatile ("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return r;
}
#endif

static int
do_i386 (void)
{
#if defined(__x86_64__)
  static const struct
  {
    const char *name;
    long nr, a, b, c;
  } calls[] = {
    { "getpid", 20, 0, 0, 0 },       { "unshare", 310, CLONE_NEWUSER, 0, 0 },
    { "keyctl", 288, 0, -3, 0 },     { "personality-query", 136, 0xffffffffL, 0, 0 },
    { "personality-1", 136, 0x9, 0, 0 },
  };
  /* (a kernel without IA32 emulation faults at int $0x80) */
  struct sigaction sa = { .sa_handler = i386_fault };
  sigaction (SIGSEGV, &sa, NULL);
  sigaction (SIGBUS, &sa, NULL);
  if (sigsetjmp (i386_gone, 1))
    {
      printf ("i386=unavailable\n");
      return 1;
    }
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
    {
      long r = i386_syscall (calls[i].nr, calls[i].a, calls[i].b, calls[i].c);
      char key[48];
      snprintf (key, sizeof key, "i386.%s", calls[i].name);
      if (r < 0 && r > -4096)
        errno = (int) -r;
      report (key, r < 0 && r > -4096 ? -1 : 0);
    }
  return 0;
#else
  printf ("i386=unavailable\n");
  return 1;
#endif
}

/* chroot into dir (through int $0x80 when how is "i386"), then stat file with
 * the native call: "chroot=ok|ERR" and "uid=N" (what the stat shows, or ERR).
 * The credential emulation must learn of the chroot of either architecture, or
 * it would answer for the file of that name outside the new root. */
static int
do_chroot (const char *dir, const char *file, const char *how)
{
  long r;
  if (strcmp (how, "i386") == 0)
    {
#if defined(__x86_64__)
      /* (int $0x80 takes 32-bit pointers: the path in the low 4 GiB) */
      char *low = mmap (NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
                        -1, 0);
      struct sigaction sa = { .sa_handler = i386_fault };
      if (low == MAP_FAILED || strlen (dir) >= 4096)
        return report ("chroot", -1);
      strcpy (low, dir);
      sigaction (SIGSEGV, &sa, NULL);
      if (sigsetjmp (i386_gone, 1))
        {
          printf ("chroot=unavailable\n");
          return 1;
        }
      r = i386_syscall (61, (long) (uintptr_t) low, 0, 0);
      if (r < 0 && r > -4096)
        errno = (int) -r, r = -1;
#else
      printf ("chroot=unavailable\n");
      return 1;
#endif
    }
  else
    r = chroot (dir);
  if (report ("chroot", r) != 0 || chdir ("/") < 0)
    return 1;
  struct stat st;
  if (stat (file, &st) < 0)
    printf ("uid=%s\n", errname (errno));
  else
    printf ("uid=%u\n", (unsigned) st.st_uid);
  return 0;
}

static int
do_connect (const char *ip, const char *port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) atoi (port)) };
  if (inet_pton (AF_INET, ip, &sin.sin_addr) != 1)
    return 2;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return report ("connect", -1);
  if (connect (fd, (struct sockaddr *) &sin, sizeof sin) < 0 && errno != EINPROGRESS)
    return report ("connect", -1);
  struct pollfd p = { .fd = fd, .events = POLLOUT };
  int r = poll (&p, 1, 5000);
  if (r == 0)
    {
      errno = ETIMEDOUT;
      return report ("connect", -1);
    }
  int e = 0;
  socklen_t l = sizeof e;
  getsockopt (fd, SOL_SOCKET, SO_ERROR, &e, &l);
  errno = e;
  return report ("connect", e ? -1 : 0);
}

static int
do_udpecho (const char *port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) atoi (port)) };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &sin, sizeof sin) < 0)
    return report ("udpecho", -1);
  printf ("udpecho=ready\n");
  char buf[65536];
  for (;;)
    {
      struct sockaddr_storage from;
      socklen_t len = sizeof from;
      ssize_t n = recvfrom (fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &len);
      if (n >= 0)
        sendto (fd, buf, (size_t) n, 0, (struct sockaddr *) &from, len);
    }
}

static void
usage (void)
{
  fprintf (stderr, "usage: probe status|mount|keyctl|userns|fds|tiocsti|zombie|ptrace|chown|"
                   "ids|x32|i386|chroot DIR FILE [i386]|read FILE|sleep N|netlink P|loopback|"
                   "connect IP PORT|udpecho PORT|"
                   "drop UID GID|fsuid UID GID FILE\n");
  exit (2);
}

int
main (int argc, char **argv)
{
  /* Multi-call: "probe CMD" or a link named CMD. */
  const char *cmd = strrchr (argv[0], '/');
  cmd = cmd ? cmd + 1 : argv[0];
  if (strcmp (cmd, "probe") == 0)
    {
      if (argc < 2)
        usage ();
      argv++;
      argc--;
      cmd = argv[0];
    }
  setvbuf (stdout, NULL, _IOLBF, 0);

  if (strcmp (cmd, "status") == 0)
    return do_status ();
  if (strcmp (cmd, "mount") == 0)
    return do_mount ();
  if (strcmp (cmd, "keyctl") == 0)
    return do_keyctl ();
  if (strcmp (cmd, "userns") == 0)
    return do_userns ();
  if (strcmp (cmd, "fds") == 0)
    return do_fds ();
  if (strcmp (cmd, "tiocsti") == 0)
    return do_tiocsti ();
  if (strcmp (cmd, "zombie") == 0)
    return do_zombie ();
  if (strcmp (cmd, "ptrace") == 0)
    return do_ptrace ();
  if (strcmp (cmd, "chown") == 0)
    return do_chown ();
  if (strcmp (cmd, "ids") == 0)
    return do_ids ();
  if (strcmp (cmd, "x32") == 0)
    return do_x32 ();
  if (strcmp (cmd, "i386") == 0)
    return do_i386 ();
  if (strcmp (cmd, "chroot") == 0 && argc >= 3)
    return do_chroot (argv[1], argv[2], argc >= 4 ? argv[3] : "native");
  if (strcmp (cmd, "read") == 0 && argc >= 2)
    return do_read (argv[1]);
  if (strcmp (cmd, "netlink") == 0 && argc >= 2)
    return do_netlink (argv[1]);
  if (strcmp (cmd, "loopback") == 0)
    return do_loopback ();
  if (strcmp (cmd, "connect") == 0 && argc >= 3)
    return do_connect (argv[1], argv[2]);
  if (strcmp (cmd, "drop") == 0 && argc >= 3)
    return do_drop (argv[1], argv[2]);
  if (strcmp (cmd, "fsuid") == 0 && argc >= 4)
    return do_fsuid (argv[1], argv[2], argv[3]);
  if (strcmp (cmd, "udpecho") == 0 && argc >= 2)
    return do_udpecho (argv[1]);
  if (strcmp (cmd, "sleep") == 0 && argc >= 2)
    {
      unsigned s = (unsigned) strtoul (argv[1], NULL, 10);
      while (s > 0)
        s = sleep (s);
      return 0;
    }
  usage ();
  return 2;
}
