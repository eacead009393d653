/* sandbox/tty.c: see tty.h. */
#include "sandbox/tty.h"

#include <sys/ioctl.h>
#include <unistd.h>

void
sandbox_tty_raw (int fd, struct tty_state *st)
{
  st->saved = false;
  st->fd = fd;
  if (!isatty (fd) || tcgetattr (fd, &st->orig) < 0)
    return;
  struct termios raw = st->orig;
  cfmakeraw (&raw);
  if (tcsetattr (fd, TCSANOW, &raw) == 0)
    st->saved = true;
}

void
sandbox_tty_restore (struct tty_state *st)
{
  if (st->saved)
    tcsetattr (st->fd, TCSANOW, &st->orig);
  st->saved = false;
}

void
sandbox_tty_copy_winsize (int from, int to)
{
  struct winsize ws;
  if (ioctl (from, TIOCGWINSZ, &ws) == 0)
    ioctl (to, TIOCSWINSZ, &ws);
}
