/* net/dns.c: see dns.h. */
#include "net/dns.h"
#include "util/cleanup.h"
#include "util/util.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
net_dns_is_loopback (const char *addr)
{
  struct in_addr a4;
  struct in6_addr a6;
  if (inet_pton (AF_INET, addr, &a4) == 1)
    return (ntohl (a4.s_addr) >> 24) == 127;
  if (inet_pton (AF_INET6, addr, &a6) == 1)
    return IN6_IS_ADDR_LOOPBACK (&a6) || (IN6_IS_ADDR_V4MAPPED (&a6) && a6.s6_addr[12] == 127);
  return false;
}

static bool
is_ip (const char *s)
{
  struct in_addr a4;
  struct in6_addr a6;
  return inet_pton (AF_INET, s, &a4) == 1 || inet_pton (AF_INET6, s, &a6) == 1;
}

/* The first word after `key` on a line of text, for each such line. */
static void
collect (const char *text, const char *key, bool skip_loopback, char ***out)
{
  if (text == NULL)
    return;
  const char *cur = text;
  char *line;
  size_t klen = strlen (key);
  while ((line = str_next_line (&cur)) != NULL)
    {
      char *p = line + strspn (line, " \t");
      if (strncmp (p, key, klen) == 0 && (p[klen] == ' ' || p[klen] == '\t'))
        {
          char *save = NULL;
          for (char *w = strtok_r (p + klen, " \t\r", &save); w;
               w = strtok_r (NULL, " \t\r", &save))
            {
              if (*w == '#' || *w == ';')
                break;
              if (!(skip_loopback && net_dns_is_loopback (w)) && !strv_contains (*out, w))
                strv_push (out, w);
              if (strcmp (key, "nameserver") == 0)
                break; /* one address a line */
            }
        }
      free (line);
    }
}

int
net_resolv_conf (const struct net_dns_input *in, char **out, char **warning, nook_error_t *err)
{
  *out = *warning = NULL;
  for (size_t i = 0; in->servers && in->servers[i]; i++)
    if (!is_ip (in->servers[i]))
      return nook_error_set (
          err, 0, "invalid argument \"%s\" for \"--dns\" flag: not an IP address", in->servers[i]);
  for (size_t i = 0; in->search && in->search[i]; i++)
    if (strpbrk (in->search[i], " \t\n") || !*in->search[i])
      return nook_error_set (err, 0, "invalid argument \"%s\" for \"--dns-search\" flag",
                             in->search[i]);
  for (size_t i = 0; in->options && in->options[i]; i++)
    if (strpbrk (in->options[i], " \t\n") || !*in->options[i])
      return nook_error_set (err, 0, "invalid argument \"%s\" for \"--dns-option\" flag",
                             in->options[i]);
  bool custom = in->servers || in->search || in->options;
  if (in->host_network && !custom)
    {
      *out = xstrdup (in->host_resolv ? in->host_resolv : "");
      return 0;
    }
  cleanup_strv char **servers = NULL;
  cleanup_strv char **search = NULL;
  cleanup_strv char **options = NULL;
  if (in->servers)
    servers = strv_dup (in->servers);
  else
    {
      collect (in->host_resolv, "nameserver", !in->host_network, &servers);
      if (servers == NULL && in->user_mode)
        {
          if (in->allow_host_loopback)
            strv_push (&servers, "10.0.2.3");
          else
            collect (in->resolved_resolv, "nameserver", true, &servers);
        }
      if (servers == NULL && in->user_mode)
        *warning = xstrdup ("the host's name servers are all on its loopback, which the "
                            "container cannot reach: it gets none (give one with --dns IP, or "
                            "allow host loopback: --network libslirp:allow_host_loopback=true)");
    }
  if (in->search)
    search = strv_dup (in->search);
  else
    collect (in->host_resolv, "search", false, &search);
  if (in->options)
    options = strv_dup (in->options);
  else
    collect (in->host_resolv, "options", false, &options);
  struct strbuf b = { 0 };
  strbuf_append (&b, "");
  for (size_t i = 0; servers && servers[i]; i++)
    strbuf_appendf (&b, "nameserver %s\n", servers[i]);
  /* "." alone clears the search list (Docker's --dns-search=.) */
  if (search && !(search[0] && strcmp (search[0], ".") == 0 && !search[1]))
    {
      strbuf_append (&b, "search");
      for (size_t i = 0; search[i]; i++)
        strbuf_appendf (&b, " %s", search[i]);
      strbuf_append (&b, "\n");
    }
  if (options)
    {
      strbuf_append (&b, "options");
      for (size_t i = 0; options[i]; i++)
        strbuf_appendf (&b, " %s", options[i]);
      strbuf_append (&b, "\n");
    }
  *out = strbuf_steal (&b);
  return 0;
}

static bool
valid_host_name (const char *h)
{
  size_t n = strlen (h);
  if (n == 0 || n > 253 || h[0] == '-' || h[0] == '.')
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z')
          || (h[i] >= '0' && h[i] <= '9') || h[i] == '-' || h[i] == '.' || h[i] == '_'))
      return false;
  return true;
}

static int
add_host_line (struct strbuf *b, const char *spec, const char *gateway, const char *why,
               nook_error_t *err)
{
  cleanup_free char *copy = xstrdup (spec);
  char *sep = strpbrk (copy, ":=");
  if (sep == NULL)
    return nook_error_set (err, 0, "invalid argument \"%s\" for \"--add-host\" flag: want NAME:IP",
                           spec);
  *sep = '\0';
  char *name = copy, *ip = sep + 1;
  size_t l = strlen (ip);
  if (l >= 2 && ip[0] == '[' && ip[l - 1] == ']')
    {
      ip[l - 1] = '\0';
      ip++;
    }
  if (!valid_host_name (name))
    return nook_error_set (err, 0,
                           "invalid argument \"%s\" for \"--add-host\" flag: invalid host name "
                           "'%s'",
                           spec, name);
  if (strcmp (ip, "host-gateway") == 0)
    {
      if (gateway == NULL)
        return nook_error_set (err, 0, "invalid argument \"%s\" for \"--add-host\" flag: %s", spec,
                               why ? why : "no host gateway on this network");
      ip = (char *)gateway;
    }
  else if (!is_ip (ip))
    return nook_error_set (err, 0,
                           "invalid argument \"%s\" for \"--add-host\" flag: invalid IP address "
                           "'%s'",
                           spec, ip);
  strbuf_appendf (b, "%s\t%s\n", ip, name);
  return 0;
}

int
net_hosts_file (const char *hostname, const char *name, const char *addr, char *const *add_hosts,
                const char *host_gateway, const char *gateway_why, char **out, nook_error_t *err)
{
  struct strbuf b = { 0 };
  strbuf_append (&b, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
  strbuf_appendf (&b, "%s\t%s", addr ? addr : "127.0.1.1", hostname);
  if (name && strcmp (name, hostname) != 0)
    strbuf_appendf (&b, " %s", name);
  strbuf_append (&b, "\n");
  for (size_t i = 0; add_hosts && add_hosts[i]; i++)
    if (add_host_line (&b, add_hosts[i], host_gateway, gateway_why, err) < 0)
      {
        strbuf_free (&b);
        return -1;
      }
  *out = strbuf_steal (&b);
  return 0;
}
