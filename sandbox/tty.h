/* sandbox/tty.h: the caller's terminal for `run -t`: raw mode and window size. */
#ifndef NOOK_SANDBOX_TTY_H
#define NOOK_SANDBOX_TTY_H

#include <stdbool.h>
#include <termios.h>

struct tty_state
{
  bool saved;
  int fd;
  struct termios orig;
};

/* Put fd in raw mode if it is a terminal, remembering how it was. */
void sandbox_tty_raw (int fd, struct tty_state *st);
/* Undo sandbox_tty_raw. */
void sandbox_tty_restore (struct tty_state *st);
/* Copy the window size of `from` (a terminal) to `to` (a pty master). */
void sandbox_tty_copy_winsize (int from, int to);

#endif
