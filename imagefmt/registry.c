/* imagefmt/registry.c: see registry.h. */
#include "imagefmt/registry.h"
#include "imagefmt/curl_dl.h"
#include "imagefmt/digest.h"
#include "imagefmt/manifest.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BODY_MAX (64u << 10)
#define MANIFEST_BODY_MAX (4u << 20)
#define CA_FILE_MAX (1u << 20)
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define cleanup_jsonv __attribute__ ((cleanup (json_decrefp)))

enum scheme
{
  SCHEME_UNDECIDED,
  SCHEME_HTTPS,
  SCHEME_HTTP,
};

enum auth_kind
{
  AUTH_UNKNOWN,
  AUTH_NONE,
  AUTH_BASIC,
  AUTH_BEARER,
};

struct token
{
  char *scope;
  char *token;
  time_t expires;
};

struct shared
{
  pthread_mutex_t mu;
  int refs;
  char *name;          /* as given */
  char *host;          /* host[:port] */
  char *prefix;        /* "" or "hub/" */
  char *auth_key;      /* credentials key */
  char **cred_helpers; /* registries.conf's credential-helpers, or NULL */
  enum scheme scheme;
  bool fixed_scheme, insecure;
  enum auth_kind auth;
  struct imagefmt_auth_challenge challenge; /* of the ping */
  bool creds_looked, have_creds;
  struct imagefmt_creds creds;
  struct token *tokens;
  size_t n_tokens;
  char *ca_blob;
  size_t ca_len;
  char *client_cert, *client_key;
  long connect_timeout_ms;
  char *user_agent;
  char *noproxy;
};

struct imagefmt_registry
{
  struct shared *sh;
  CURL *curl;
};

/* ---- hosts ---- */

char *
imagefmt_registry_api_host (const char *domain)
{
  if (strcmp (domain, "docker.io") == 0 || strcmp (domain, "index.docker.io") == 0)
    return xstrdup ("registry-1.docker.io");
  return xstrdup (domain);
}

/* host without its port (and without IPv6 brackets) */
static char *
host_only (const char *hostport)
{
  if (hostport[0] == '[')
    {
      const char *close = strchr (hostport, ']');
      return close ? xstrndup (hostport + 1, (size_t)(close - hostport - 1)) : xstrdup (hostport);
    }
  const char *colon = strchr (hostport, ':');
  return colon ? xstrndup (hostport, (size_t)(colon - hostport)) : xstrdup (hostport);
}

bool
imagefmt_registry_host_is_loopback (const char *hostport)
{
  cleanup_free char *h = host_only (hostport);
  struct in_addr a4;
  struct in6_addr a6;
  if (strcasecmp (h, "localhost") == 0)
    return true;
  if (inet_pton (AF_INET, h, &a4) == 1)
    return (ntohl (a4.s_addr) >> 24) == 127;
  if (inet_pton (AF_INET6, h, &a6) == 1)
    return IN6_IS_ADDR_LOOPBACK (&a6);
  return false;
}

static bool
cidr_match (const char *cidr, const char *host)
{
  const char *slash = strchr (cidr, '/');
  if (slash == NULL)
    return false;
  cleanup_free char *net = xstrndup (cidr, (size_t)(slash - cidr));
  uint64_t bits;
  unsigned char n[16], a[16];
  size_t alen;
  if (inet_pton (AF_INET, net, n) == 1 && inet_pton (AF_INET, host, a) == 1)
    alen = 4;
  else if (inet_pton (AF_INET6, net, n) == 1 && inet_pton (AF_INET6, host, a) == 1)
    alen = 16;
  else
    return false;
  if (parse_uint (slash + 1, alen * 8, &bits, "prefix", NULL) < 0)
    return false;
  for (size_t i = 0; i < alen && bits > 0; i++, bits = bits > 8 ? bits - 8 : 0)
    {
      unsigned mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
      if ((n[i] & mask) != (a[i] & mask))
        return false;
    }
  return true;
}

bool
imagefmt_registry_host_is_insecure (const char *hostport, char *const *insecure)
{
  cleanup_free char *h = host_only (hostport);
  for (size_t i = 0; insecure && insecure[i]; i++)
    {
      const char *e = insecure[i];
      if (strncmp (e, "http://", 7) == 0)
        e += 7;
      else if (strncmp (e, "https://", 8) == 0)
        e += 8;
      cleanup_free char *entry = xstrdup (e);
      size_t n = strlen (entry);
      while (n > 0 && entry[n - 1] == '/')
        entry[--n] = '\0';
      if (strcasecmp (entry, hostport) == 0 || strcasecmp (entry, h) == 0 || cidr_match (entry, h))
        return true;
    }
  return false;
}

/* ---- TLS material from certs.d ---- */

static int
append_file (struct strbuf *b, int dfd, const char *name)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (fs_read_file_at (dfd, name, CA_FILE_MAX, &data, &len, NULL) < 0)
    return -1;
  strbuf_appendn (b, data, len);
  strbuf_appendc (b, '\n');
  return 0;
}

static void
load_certs_dir (struct shared *sh, const char *dir, struct strbuf *cas, bool *found)
{
  cleanup_close int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return;
  int dup = fcntl (dfd, F_DUPFD_CLOEXEC, 3);
  cleanup_dir DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
  if (d == NULL)
    {
      if (dup >= 0)
        close (dup);
      return;
    }
  struct dirent *de;
  while ((de = readdir (d)) != NULL)
    {
      const char *n = de->d_name;
      if (str_has_suffix (n, ".crt"))
        {
          if (append_file (cas, dfd, n) == 0)
            *found = true;
        }
      else if (str_has_suffix (n, ".cert") && sh->client_cert == NULL)
        {
          cleanup_free char *key = xasprintf ("%.*s.key", (int)(strlen (n) - 5), n);
          if (faccessat (dfd, key, R_OK, 0) == 0)
            {
              sh->client_cert = xasprintf ("%s/%s", dir, n);
              sh->client_key = xasprintf ("%s/%s", dir, key);
            }
        }
    }
}

static void
load_tls_material (struct shared *sh)
{
  struct strbuf cas = { 0 };
  bool found = false;
  const char *home = getenv ("HOME");
  const char *xdg = getenv ("XDG_CONFIG_HOME");
  cleanup_free char *user_dir
      = xdg && *xdg == '/'     ? xasprintf ("%s/containers/certs.d/%s", xdg, sh->host)
        : home && *home == '/' ? xasprintf ("%s/.config/containers/certs.d/%s", home, sh->host)
                               : NULL;
  cleanup_free char *etc_c = xasprintf ("/etc/containers/certs.d/%s", sh->host);
  cleanup_free char *etc_d = xasprintf ("/etc/docker/certs.d/%s", sh->host);
  const char *dirs[] = { user_dir, etc_c, etc_d };
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    if (dirs[i])
      load_certs_dir (sh, dirs[i], &cas, &found);
  if (!found)
    {
      strbuf_free (&cas);
      return;
    }
  /* the extra CAs are added to the system's, as containers/image does */
  cleanup_close int none = -1;
  append_file (&cas, AT_FDCWD, SYSTEM_CA_BUNDLE);
  sh->ca_len = cas.len;
  sh->ca_blob = strbuf_steal (&cas);
}

/* ---- open / close ---- */

static void
shared_unref (struct shared *sh)
{
  pthread_mutex_lock (&sh->mu);
  int left = --sh->refs;
  pthread_mutex_unlock (&sh->mu);
  if (left > 0)
    return;
  free (sh->name);
  free (sh->host);
  free (sh->prefix);
  free (sh->auth_key);
  strv_free (sh->cred_helpers);
  imagefmt_auth_challenge_clear (&sh->challenge);
  imagefmt_creds_clear (&sh->creds);
  for (size_t i = 0; i < sh->n_tokens; i++)
    {
      free (sh->tokens[i].scope);
      explicit_bzero (sh->tokens[i].token, strlen (sh->tokens[i].token));
      free (sh->tokens[i].token);
    }
  free (sh->tokens);
  free (sh->ca_blob);
  free (sh->client_cert);
  free (sh->client_key);
  free (sh->user_agent);
  free (sh->noproxy);
  pthread_mutex_destroy (&sh->mu);
  free (sh);
}

int
imagefmt_registry_open (const char *url, const char *auth_key,
                        const struct imagefmt_registry_opts *o, struct imagefmt_registry **out,
                        nook_error_t *err)
{
  static const struct imagefmt_registry_opts defaults = { .tls_verify = -1 };
  if (o == NULL)
    o = &defaults;
  if (imagefmt_curl_load (err) < 0)
    return -1;
  struct shared *sh = xzalloc (sizeof *sh);
  pthread_mutex_init (&sh->mu, NULL);
  sh->refs = 1;
  sh->name = xstrdup (url);
  const char *p = url;
  if (strncasecmp (p, "https://", 8) == 0)
    {
      sh->scheme = SCHEME_HTTPS;
      sh->fixed_scheme = true;
      p += 8;
    }
  else if (strncasecmp (p, "http://", 7) == 0)
    {
      sh->scheme = SCHEME_HTTP;
      sh->fixed_scheme = true;
      p += 7;
    }
  const char *slash = strchr (p, '/');
  sh->host = slash ? xstrndup (p, (size_t)(slash - p)) : xstrdup (p);
  if (*sh->host == '\0' || strpbrk (sh->host, " \t\r\n?#@\\\"") != NULL)
    {
      nook_error_set (err, EINVAL, "invalid registry address '%s'", url);
      shared_unref (sh);
      return -1;
    }
  struct strbuf pre = { 0 };
  if (slash)
    {
      const char *q = slash;
      while (*q == '/')
        q++;
      strbuf_append (&pre, q);
      while (pre.len > 0 && pre.buf[pre.len - 1] == '/')
        pre.buf[--pre.len] = '\0';
      if (pre.len > 0)
        strbuf_appendc (&pre, '/');
    }
  sh->prefix = strbuf_steal (&pre);
  sh->auth_key = xstrdup (auth_key ? auth_key : sh->host);
  sh->cred_helpers = o->cred_helpers ? strv_dup (o->cred_helpers) : NULL;
  sh->insecure = o->tls_verify == 0
                 || (o->tls_verify < 0
                     && (imagefmt_registry_host_is_loopback (sh->host)
                         || imagefmt_registry_host_is_insecure (sh->host, o->insecure)));
  if (o->creds && o->creds->username)
    {
      sh->creds.username = xstrdup (o->creds->username);
      sh->creds.password = xstrdup (o->creds->password ? o->creds->password : "");
      sh->have_creds = sh->creds_looked = true;
    }
  sh->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
  sh->user_agent = xstrdup (o->user_agent ? o->user_agent : "nook");
  const char *np = getenv ("no_proxy");
  if (np == NULL || *np == '\0')
    np = getenv ("NO_PROXY");
  sh->noproxy
      = xasprintf ("%s%slocalhost,127.0.0.1,::1", np && *np ? np : "", np && *np ? "," : "");
  load_tls_material (sh);
  struct imagefmt_registry *r = xzalloc (sizeof *r);
  r->sh = sh;
  *out = r;
  return 0;
}

struct imagefmt_registry *
imagefmt_registry_clone (struct imagefmt_registry *r)
{
  struct imagefmt_registry *c = xzalloc (sizeof *c);
  pthread_mutex_lock (&r->sh->mu);
  r->sh->refs++;
  pthread_mutex_unlock (&r->sh->mu);
  c->sh = r->sh;
  return c;
}

void
imagefmt_registry_close (struct imagefmt_registry *r)
{
  if (r == NULL)
    return;
  if (r->curl)
    curl_easy_cleanup (r->curl);
  shared_unref (r->sh);
  free (r);
}

const char *
imagefmt_registry_name (const struct imagefmt_registry *r)
{
  return r->sh->name;
}

/* ---- one HTTP exchange ---- */

struct resp
{
  long status;
  char *content_type, *digest, *location, *www_auth;
  struct strbuf body;
  size_t body_max;
  bool body_truncated;
  imagefmt_registry_sink sink;
  void *sink_arg;
  nook_error_t sink_err;
  CURL *curl;
};

static void
resp_clear (struct resp *x)
{
  free (x->content_type);
  free (x->digest);
  free (x->location);
  free (x->www_auth);
  strbuf_free (&x->body);
  nook_error_free (&x->sink_err);
  struct resp keep = { .body_max = x->body_max, .sink = x->sink, .sink_arg = x->sink_arg };
  *x = keep;
}

static void
set_header (char **slot, const char *v, size_t n)
{
  free (*slot);
  while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
    n--;
  while (n > 0 && (*v == ' ' || *v == '\t'))
    v++, n--;
  *slot = xstrndup (v, n);
}

static size_t
on_header (char *buf, size_t size, size_t nmemb, void *arg)
{
  struct resp *x = arg;
  size_t n = size * nmemb;
  if (n >= 5 && strncmp (buf, "HTTP/", 5) == 0)
    {
      /* a new response (after a redirect or 100-continue): forget the last one's */
      free (x->content_type);
      free (x->digest);
      free (x->location);
      free (x->www_auth);
      x->content_type = x->digest = x->location = x->www_auth = NULL;
      return n;
    }
  const char *colon = memchr (buf, ':', n);
  if (colon == NULL)
    return n;
  size_t klen = (size_t)(colon - buf);
  const char *v = colon + 1;
  size_t vlen = n - klen - 1;
#define HDR(name) (klen == strlen (name) && strncasecmp (buf, name, klen) == 0)
  if (HDR ("Content-Type"))
    set_header (&x->content_type, v, vlen);
  else if (HDR ("Docker-Content-Digest"))
    set_header (&x->digest, v, vlen);
  else if (HDR ("Location"))
    set_header (&x->location, v, vlen);
  else if (HDR ("WWW-Authenticate") && x->www_auth == NULL)
    set_header (&x->www_auth, v, vlen);
#undef HDR
  return n;
}

static size_t
on_body (char *buf, size_t size, size_t nmemb, void *arg)
{
  struct resp *x = arg;
  size_t n = size * nmemb;
  long status = 0;
  curl_easy_getinfo (x->curl, CURLINFO_RESPONSE_CODE, &status);
  if (x->sink && status >= 200 && status < 300)
    {
      if (x->sink (buf, n, x->sink_arg, &x->sink_err) < 0)
        return 0; /* aborts the transfer */
      return n;
    }
  size_t max = status >= 200 && status < 300 ? x->body_max : BODY_MAX;
  if (x->body.len + n > max)
    {
      x->body_truncated = true;
      return 0;
    }
  strbuf_appendn (&x->body, buf, n);
  return n;
}

struct upload
{
  int fd;
  int64_t size, sent;
  off_t start;
  const char *data; /* or memory */
  void (*progress) (int64_t sent, void *arg);
  void *arg;
};

static size_t
on_read (char *buf, size_t size, size_t nmemb, void *arg)
{
  struct upload *u = arg;
  size_t want = size * nmemb;
  if ((int64_t)want > u->size - u->sent)
    want = (size_t)(u->size - u->sent);
  if (want == 0)
    return 0;
  if (u->data)
    {
      memcpy (buf, u->data + u->sent, want);
      u->sent += (int64_t)want;
      return want;
    }
  ssize_t got;
  do
    got = pread (u->fd, buf, want, u->start + (off_t)u->sent);
  while (got < 0 && errno == EINTR);
  if (got <= 0)
    return CURL_READFUNC_ABORT;
  u->sent += got;
  if (u->progress)
    u->progress (u->sent, u->arg);
  return (size_t)got;
}

struct req
{
  const char *what;   /* for messages: "manifest lab/base:1.0" */
  const char *method; /* GET, HEAD, POST, PUT */
  char *url;          /* absolute */
  const char *scope;  /* token scope this needs */
  const char *accept;
  const char *content_type;
  struct upload *body; /* POST/PUT body, may be NULL (empty) */
  bool follow;         /* follow redirects (blob GETs) */
};

static CURL *
handle (struct imagefmt_registry *r)
{
  if (r->curl == NULL && (r->curl = curl_easy_init ()) == NULL)
    oom ();
  curl_easy_reset (r->curl);
  return r->curl;
}

static void
set_transport (struct imagefmt_registry *r, CURL *c, bool https)
{
  struct shared *sh = r->sh;
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT_MS, sh->connect_timeout_ms);
  /* a stalled transfer (under 1 byte/s for 60 s) is given up */
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt (c, CURLOPT_USERAGENT, sh->user_agent);
  curl_easy_setopt (c, CURLOPT_NOPROXY, sh->noproxy);
  if (https)
    {
      if (sh->insecure)
        {
          curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 0L);
          curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 0L);
        }
      if (sh->ca_blob)
        {
          struct curl_blob blob = { .data = sh->ca_blob, .len = sh->ca_len, .flags = 0 };
          curl_easy_setopt (c, CURLOPT_CAINFO_BLOB, &blob);
        }
      if (sh->client_cert)
        {
          curl_easy_setopt (c, CURLOPT_SSLCERT, sh->client_cert);
          curl_easy_setopt (c, CURLOPT_SSLKEY, sh->client_key);
        }
    }
}

/* Perform one exchange; -1 only on a transport failure (err set). */
static int
perform (struct imagefmt_registry *r, const struct req *q, const char *authz, struct resp *x,
         nook_error_t *err)
{
  CURL *c = handle (r);
  struct curl_slist *h = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  resp_clear (x);
  x->curl = c;
  set_transport (r, c, strncmp (q->url, "https:", 6) == 0);
  curl_easy_setopt (c, CURLOPT_URL, q->url);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, x);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, x);
  if (q->follow)
    {
      curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt (c, CURLOPT_MAXREDIRS, 5L);
    }
  cleanup_free char *ah = authz ? xasprintf ("Authorization: %s", authz) : NULL;
  cleanup_free char *acc = q->accept ? xasprintf ("Accept: %s", q->accept) : NULL;
  cleanup_free char *ct = q->content_type ? xasprintf ("Content-Type: %s", q->content_type) : NULL;
  if (ah)
    h = curl_slist_append (h, ah);
  if (acc)
    h = curl_slist_append (h, acc);
  if (ct)
    h = curl_slist_append (h, ct);
  h = curl_slist_append (h, "Expect:");
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
  if (strcmp (q->method, "HEAD") == 0)
    curl_easy_setopt (c, CURLOPT_NOBODY, 1L);
  else if (strcmp (q->method, "PUT") == 0 || strcmp (q->method, "POST") == 0)
    {
      struct upload empty = { 0 };
      struct upload *u = q->body ? q->body : &empty;
      u->sent = 0;
      curl_easy_setopt (c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt (c, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt (c, CURLOPT_READDATA, u);
      curl_easy_setopt (c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u->size);
      if (strcmp (q->method, "POST") == 0)
        curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, "POST");
      CURLcode cc = curl_easy_perform (c);
      curl_slist_free_all (h);
      curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &x->status);
      if (cc != CURLE_OK)
        return nook_error_set (err, EIO, "%s %s: %s", q->method, q->url,
                               *errbuf ? errbuf : curl_easy_strerror (cc));
      return 0;
    }
  CURLcode cc = curl_easy_perform (c);
  curl_slist_free_all (h);
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &x->status);
  if (cc == CURLE_WRITE_ERROR && x->sink_err)
    {
      *err = steal_pointer (&x->sink_err);
      return -1;
    }
  if (cc == CURLE_WRITE_ERROR && x->body_truncated)
    return nook_error_set (err, EFBIG, "%s %s: answer larger than %zu bytes", q->method, q->url,
                           x->body_max);
  if (cc != CURLE_OK)
    {
      int code = cc == CURLE_OPERATION_TIMEDOUT                                    ? ETIMEDOUT
                 : cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ? EHOSTUNREACH
                                                                                   : EIO;
      return nook_error_set (err, code, "%s %s: %s", q->method, q->url,
                             *errbuf ? errbuf : curl_easy_strerror (cc));
    }
  return 0;
}

/* ---- errors ---- */

char *
imagefmt_registry_error_text (const char *body, size_t len)
{
  if (body == NULL || len == 0)
    return NULL;
  cleanup_jsonv json_t *j = json_loadb (body, len, 0, NULL);
  json_t *errs = json_object_get (j, "errors");
  if (!json_is_array (errs) || json_array_size (errs) == 0)
    return NULL;
  struct strbuf b = { 0 };
  size_t i;
  json_t *e;
  json_array_foreach (errs, i, e)
  {
    const char *code = json_string_value (json_object_get (e, "code"));
    const char *msg = json_string_value (json_object_get (e, "message"));
    if (i >= 3)
      break;
    if (b.len)
      strbuf_append (&b, "; ");
    if (code && msg)
      {
        cleanup_free char *lc = xstrdup (code);
        for (char *p = lc; *p; p++)
          *p = *p == '_' ? ' ' : (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
        /* "MANIFEST_UNKNOWN" + "manifest unknown": say it once */
        if (strcasecmp (lc, msg) == 0)
          strbuf_append (&b, msg);
        else
          strbuf_appendf (&b, "%s: %s", lc, msg);
      }
    else
      strbuf_append (&b, msg ? msg : code ? code : "error");
  }
  /* registries' texts are not ours: keep them printable */
  for (size_t k = 0; k < b.len; k++)
    if ((unsigned char)b.buf[k] < ' ')
      b.buf[k] = ' ';
  return strbuf_steal (&b);
}

static const char *
reason (long status)
{
  switch (status)
    {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "";
    }
}

static int
http_error (struct imagefmt_registry *r, const char *what, const struct resp *x, nook_error_t *err)
{
  cleanup_free char *text = imagefmt_registry_error_text (x->body.buf, x->body.len);
  int code = x->status == 404 ? ENOENT : x->status == 401 || x->status == 403 ? EACCES : EIO;
  const char *hint = "";
  cleanup_free char *h = NULL;
  if (x->status == 401)
    {
      h = xasprintf ("; run 'nook login %s'", r->sh->auth_key);
      hint = h;
    }
  if (text == NULL)
    text = xstrdup (x->status == 401   ? "unauthorized: authentication required"
                    : x->status == 403 ? "denied: requested access to the resource is denied"
                    : x->status == 404 ? "not found"
                                       : "unexpected answer");
  return nook_error_set (err, code, "%s: %s: %s (HTTP %ld%s%s)%s", r->sh->name, what, text,
                         x->status, *reason (x->status) ? " " : "", reason (x->status), hint);
}

/* ---- authentication ---- */

static void
lookup_creds (struct shared *sh, const char *repo)
{
  pthread_mutex_lock (&sh->mu);
  if (!sh->creds_looked)
    {
      cleanup_error nook_error_t e = NULL;
      sh->creds_looked = true;
      int r = imagefmt_auth_lookup_helpers (sh->cred_helpers, sh->auth_key, repo, &sh->creds, &e);
      if (r < 0)
        log_warn ("%s", e->msg);
      sh->have_creds = r > 0;
    }
  pthread_mutex_unlock (&sh->mu);
}

/* The Authorization value for scope (NULL: none known yet); caller frees. */
static char *
authorization (struct shared *sh, const char *scope)
{
  char *out = NULL;
  pthread_mutex_lock (&sh->mu);
  if (sh->auth == AUTH_BASIC && sh->have_creds)
    {
      cleanup_free char *up = xasprintf ("%s:%s", sh->creds.username, sh->creds.password);
      cleanup_free char *enc = imagefmt_base64_encode (up, strlen (up));
      out = xasprintf ("Basic %s", enc);
      explicit_bzero (up, strlen (up));
    }
  else if (sh->auth == AUTH_BEARER)
    {
      time_t now = time (NULL);
      for (size_t i = 0; i < sh->n_tokens; i++)
        if (strcmp (sh->tokens[i].scope, scope ? scope : "") == 0 && sh->tokens[i].expires > now)
          {
            out = xasprintf ("Bearer %s", sh->tokens[i].token);
            break;
          }
    }
  pthread_mutex_unlock (&sh->mu);
  return out;
}

static void
remember_token (struct shared *sh, const char *scope, const char *token, long expires_in)
{
  pthread_mutex_lock (&sh->mu);
  size_t i = 0;
  for (; i < sh->n_tokens; i++)
    if (strcmp (sh->tokens[i].scope, scope) == 0)
      break;
  if (i == sh->n_tokens)
    {
      sh->tokens = xreallocarray (sh->tokens, sh->n_tokens + 1, sizeof *sh->tokens);
      sh->tokens[i].scope = xstrdup (scope);
      sh->tokens[i].token = NULL;
      sh->n_tokens++;
    }
  free (sh->tokens[i].token);
  sh->tokens[i].token = xstrdup (token);
  /* a little early, so that a token never expires in flight */
  sh->tokens[i].expires = time (NULL) + (expires_in > 20 ? expires_in - 10 : expires_in);
  pthread_mutex_unlock (&sh->mu);
}

static void
append_query (struct strbuf *u, CURL *c, const char *key, const char *value, bool *first)
{
  char *e = curl_easy_escape (c, value, 0);
  strbuf_appendf (u, "%c%s=%s", *first ? '?' : '&', key, e ? e : "");
  *first = false;
  curl_free (e);
}

/* Fetch a token for challenge ch (scope: the challenge's, else `scope`). */
static int
fetch_token (struct imagefmt_registry *r, const struct imagefmt_auth_challenge *ch,
             const char *scope, const char *cache_scope, nook_error_t *err)
{
  struct shared *sh = r->sh;
  CURL *c = handle (r);
  struct strbuf u = { 0 };
  bool first = strchr (ch->realm, '?') == NULL;
  if (strncasecmp (ch->realm, "https://", 8) != 0 && strncasecmp (ch->realm, "http://", 7) != 0)
    return nook_error_set (err, EINVAL, "%s: token realm '%s' is not an http(s) URL", sh->name,
                           ch->realm);
  strbuf_append (&u, ch->realm);
  if (ch->service)
    append_query (&u, c, "service", ch->service, &first);
  const char *sc = ch->scope && *ch->scope ? ch->scope : scope;
  if (sc && *sc)
    {
      /* several scopes are separated by spaces */
      cleanup_free char *copy = xstrdup (sc);
      for (char *save = NULL, *t = strtok_r (copy, " ", &save); t; t = strtok_r (NULL, " ", &save))
        append_query (&u, c, "scope", t, &first);
    }
  if (sh->have_creds && sh->creds.username)
    append_query (&u, c, "account", sh->creds.username, &first);
  cleanup_free char *url = strbuf_steal (&u);
  struct resp x = { .body_max = BODY_MAX };
  char errbuf[CURL_ERROR_SIZE] = "";
  x.curl = c;
  set_transport (r, c, strncasecmp (url, "https:", 6) == 0);
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, &x);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, &x);
  if (sh->have_creds)
    {
      curl_easy_setopt (c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
      curl_easy_setopt (c, CURLOPT_USERNAME, sh->creds.username);
      curl_easy_setopt (c, CURLOPT_PASSWORD, sh->creds.password);
    }
  CURLcode cc = curl_easy_perform (c);
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &x.status);
  int ret = 0;
  if (cc != CURLE_OK)
    ret = nook_error_set (err, EHOSTUNREACH, "%s: token server %s: %s", sh->name, ch->realm,
                          *errbuf ? errbuf : curl_easy_strerror (cc));
  else if (x.status == 401 || x.status == 403)
    {
      cleanup_free char *text = imagefmt_registry_error_text (x.body.buf, x.body.len);
      ret = nook_error_set (err, EACCES,
                            "%s: unauthorized: %s (token server, HTTP %ld); run "
                            "'nook login %s'",
                            sh->name,
                            sh->have_creds ? "incorrect username or password"
                            : text         ? text
                                           : "authentication required",
                            x.status, sh->auth_key);
    }
  else if (x.status != 200)
    ret = nook_error_set (err, EIO, "%s: token server %s answered HTTP %ld", sh->name, ch->realm,
                          x.status);
  else
    {
      cleanup_free char *token = NULL;
      long expires = 60;
      if (imagefmt_auth_token_parse (x.body.buf, x.body.len, &token, &expires, err) < 0)
        ret = nook_error_wrap (err, "%s: token server %s", sh->name, ch->realm);
      else
        {
          remember_token (sh, cache_scope ? cache_scope : "", token, expires);
          explicit_bzero (token, strlen (token));
        }
    }
  x.sink = NULL;
  resp_clear (&x);
  return ret;
}

/* After a 401: decide how to authenticate and get ready to retry.  0 retry, -1 fail. */
static int
answer_challenge (struct imagefmt_registry *r, const struct req *q, const struct resp *x,
                  const char *repo, bool sent_basic, nook_error_t *err)
{
  struct shared *sh = r->sh;
  struct imagefmt_auth_challenge ch;
  if (x->www_auth == NULL || imagefmt_auth_challenge_parse (x->www_auth, &ch, NULL) < 0)
    return http_error (r, q->what, x, err);
  lookup_creds (sh, repo);
  int ret = 0;
  if (strcmp (ch.scheme, "basic") == 0)
    {
      pthread_mutex_lock (&sh->mu);
      sh->auth = AUTH_BASIC;
      pthread_mutex_unlock (&sh->mu);
      /* no credentials, or they were refused: the 401 stands */
      if (!sh->have_creds || sent_basic)
        ret = -1;
    }
  else if (strcmp (ch.scheme, "bearer") == 0)
    {
      pthread_mutex_lock (&sh->mu);
      sh->auth = AUTH_BEARER;
      pthread_mutex_unlock (&sh->mu);
      ret = fetch_token (r, &ch, q->scope, q->scope, err);
    }
  else
    ret = nook_error_set (err, ENOTSUP, "%s: unsupported authentication scheme '%s'", sh->name,
                          ch.scheme);
  imagefmt_auth_challenge_clear (&ch);
  return ret;
}

static const char *
scheme_name (enum scheme s)
{
  return s == SCHEME_HTTP ? "http" : "https";
}

static char *api_url (struct imagefmt_registry *r, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static char *
api_url (struct imagefmt_registry *r, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  cleanup_free char *path = NULL;
  if (vasprintf (&path, fmt, ap) < 0)
    oom ();
  va_end (ap);
  return xasprintf ("%s://%s%s", scheme_name (r->sh->scheme), r->sh->host, path);
}

/* An exchange with the authentication dance: at most one retry after a 401 (two when
 * a bearer token expired).  Returns 0 with x filled (any status), -1 on transport or
 * authentication failure. */
static int
request (struct imagefmt_registry *r, const struct req *q, const char *repo, struct resp *x,
         nook_error_t *err)
{
  lookup_creds (r->sh, repo);
  for (int attempt = 0;; attempt++)
    {
      cleanup_free char *authz = authorization (r->sh, q->scope);
      if (perform (r, q, authz, x, err) < 0)
        return nook_error_wrap (err, "%s", r->sh->name);
      if (x->status != 401 || attempt >= 2)
        return 0;
      if (answer_challenge (r, q, x, repo, authz && str_has_prefix (authz, "Basic "), err) < 0)
        {
          if (*err == NULL)
            http_error (r, q->what, x, err);
          return -1;
        }
    }
}

/* ---- ping ---- */

static bool
worth_http_fallback (const nook_error_t e)
{
  /* refused, unresolvable, timed out: plain HTTP would fare no better */
  return e->code != EHOSTUNREACH && e->code != ETIMEDOUT;
}

static int
ping_once (struct imagefmt_registry *r, struct resp *x, nook_error_t *err)
{
  cleanup_free char *url = api_url (r, "/v2/");
  struct req q = { .method = "GET", .url = url };
  return perform (r, &q, NULL, x, err);
}

int
imagefmt_registry_ping (struct imagefmt_registry *r, nook_error_t *err)
{
  struct shared *sh = r->sh;
  struct resp x = { .body_max = BODY_MAX };
  int ret = 0;
  if (sh->scheme == SCHEME_UNDECIDED)
    {
      sh->scheme = SCHEME_HTTPS;
      cleanup_error nook_error_t e = NULL;
      if (ping_once (r, &x, &e) < 0)
        {
          if (!sh->insecure || !worth_http_fallback (e))
            {
              *err = steal_pointer (&e);
              ret = nook_error_wrap (err, "%s: cannot reach the registry", sh->name);
              goto out;
            }
          log_debug ("%s: HTTPS failed (%s), trying HTTP", sh->name, e->msg);
          sh->scheme = SCHEME_HTTP;
          if (ping_once (r, &x, err) < 0)
            {
              ret = nook_error_wrap (err, "%s: cannot reach the registry", sh->name);
              goto out;
            }
        }
    }
  else if (ping_once (r, &x, err) < 0)
    {
      ret = nook_error_wrap (err, "%s: cannot reach the registry", sh->name);
      goto out;
    }
  if (x.status == 200)
    sh->auth = AUTH_NONE;
  else if (x.status == 401)
    {
      if (x.www_auth == NULL
          || imagefmt_auth_challenge_parse (x.www_auth, &sh->challenge, NULL) < 0)
        {
          ret = http_error (r, "GET /v2/", &x, err);
          goto out;
        }
      sh->auth = strcmp (sh->challenge.scheme, "bearer") == 0  ? AUTH_BEARER
                 : strcmp (sh->challenge.scheme, "basic") == 0 ? AUTH_BASIC
                                                               : AUTH_UNKNOWN;
    }
  else
    {
      ret = nook_error_set (err, EPROTO, "%s: not a registry (GET /v2/ answered HTTP %ld)",
                            sh->name, x.status);
      goto out;
    }
  /* explicit credentials (login): prove them now */
  if (sh->have_creds && sh->auth == AUTH_BASIC)
    {
      cleanup_free char *url = api_url (r, "/v2/");
      struct req q = { .method = "GET", .url = url };
      cleanup_free char *authz = authorization (sh, NULL);
      if (perform (r, &q, authz, &x, err) < 0)
        ret = -1;
      else if (x.status != 200)
        {
          ret = nook_error_set (err, EACCES,
                                "%s: unauthorized: incorrect username or password (HTTP %ld)",
                                sh->name, x.status);
        }
    }
  else if (sh->have_creds && sh->auth == AUTH_BEARER)
    ret = fetch_token (r, &sh->challenge, NULL, "", err);
out:
  x.sink = NULL;
  resp_clear (&x);
  return ret;
}

static int
ensure_ready (struct imagefmt_registry *r, nook_error_t *err)
{
  pthread_mutex_lock (&r->sh->mu);
  bool ready = r->sh->scheme != SCHEME_UNDECIDED && r->sh->auth != AUTH_UNKNOWN;
  pthread_mutex_unlock (&r->sh->mu);
  return ready ? 0 : imagefmt_registry_ping (r, err);
}

/* ---- the API ---- */

static char *
scope_of (struct imagefmt_registry *r, const char *repo, const char *actions)
{
  return xasprintf ("repository:%s%s:%s", r->sh->prefix, repo, actions);
}

int
imagefmt_registry_get_manifest (struct imagefmt_registry *r, const char *repo,
                                const char *reference, char **data, size_t *len,
                                char **content_type, char **digest, nook_error_t *err)
{
  if (ensure_ready (r, err) < 0)
    return -1;
  cleanup_free char *url = api_url (r, "/v2/%s%s/manifests/%s", r->sh->prefix, repo, reference);
  cleanup_free char *scope = scope_of (r, repo, "pull");
  cleanup_free char *what = xasprintf (
      "manifest %s%s%s", repo, str_has_prefix (reference, "sha256:") ? "@" : ":", reference);
  struct req q = {
    .what = what, .method = "GET", .url = url, .scope = scope, .accept = IMAGEFMT_MANIFEST_ACCEPT
  };
  struct resp x = { .body_max = MANIFEST_BODY_MAX };
  int ret = request (r, &q, repo, &x, err);
  if (ret == 0 && x.status != 200)
    {
      ret = http_error (r, what, &x, err);
      if (x.status == 404)
        {
          /* the registry's "manifest unknown" is the meaning: keep the code ENOENT */
        }
    }
  if (ret == 0)
    {
      *len = x.body.len;
      *data = strbuf_steal (&x.body);
      *content_type = steal_pointer (&x.content_type);
      *digest = steal_pointer (&x.digest);
    }
  resp_clear (&x);
  return ret;
}

int
imagefmt_registry_get_blob (struct imagefmt_registry *r, const char *repo, const char *digest,
                            imagefmt_registry_sink sink, void *arg, nook_error_t *err)
{
  if (ensure_ready (r, err) < 0)
    return -1;
  cleanup_free char *url = api_url (r, "/v2/%s%s/blobs/%s", r->sh->prefix, repo, digest);
  cleanup_free char *scope = scope_of (r, repo, "pull");
  cleanup_free char *what = xasprintf ("blob %s", digest);
  struct req q = { .what = what, .method = "GET", .url = url, .scope = scope, .follow = true };
  struct resp x = { .body_max = 0, .sink = sink, .sink_arg = arg };
  int ret = request (r, &q, repo, &x, err);
  if (ret == 0 && (x.status < 200 || x.status >= 300))
    ret = http_error (r, what, &x, err);
  x.sink = NULL;
  resp_clear (&x);
  return ret;
}

int
imagefmt_registry_blob_exists (struct imagefmt_registry *r, const char *repo, const char *digest,
                               int64_t *size, nook_error_t *err)
{
  if (ensure_ready (r, err) < 0)
    return -1;
  cleanup_free char *url = api_url (r, "/v2/%s%s/blobs/%s", r->sh->prefix, repo, digest);
  cleanup_free char *scope = scope_of (r, repo, "pull,push");
  cleanup_free char *what = xasprintf ("blob %s", digest);
  struct req q = { .what = what, .method = "HEAD", .url = url, .scope = scope, .follow = true };
  struct resp x = { .body_max = BODY_MAX };
  int ret = request (r, &q, repo, &x, err);
  if (ret == 0)
    {
      if (x.status == 200)
        {
          curl_off_t cl = -1;
          curl_easy_getinfo (r->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
          if (size)
            *size = cl;
          ret = 1;
        }
      else if (x.status == 404)
        ret = 0;
      else
        ret = http_error (r, what, &x, err);
    }
  resp_clear (&x);
  return ret;
}

/* A Location header made absolute (it may be a path). */
static char *
absolute_location (struct imagefmt_registry *r, const char *loc)
{
  if (strncasecmp (loc, "http://", 7) == 0 || strncasecmp (loc, "https://", 8) == 0)
    return xstrdup (loc);
  return xasprintf ("%s://%s%s%s", scheme_name (r->sh->scheme), r->sh->host, *loc == '/' ? "" : "/",
                    loc);
}

int
imagefmt_registry_mount_blob (struct imagefmt_registry *r, const char *repo, const char *digest,
                              const char *from, nook_error_t *err)
{
  if (ensure_ready (r, err) < 0)
    return -1;
  CURL *c = handle (r);
  char *ed = curl_easy_escape (c, digest, 0);
  cleanup_free char *pfrom = xasprintf ("%s%s", r->sh->prefix, from);
  char *ef = curl_easy_escape (c, pfrom, 0);
  cleanup_free char *url
      = api_url (r, "/v2/%s%s/blobs/uploads/?mount=%s&from=%s", r->sh->prefix, repo, ed, ef);
  curl_free (ed);
  curl_free (ef);
  cleanup_free char *scope = scope_of (r, repo, "pull,push");
  cleanup_free char *what = xasprintf ("mount blob %s from %s", digest, from);
  struct req q = { .what = what, .method = "POST", .url = url, .scope = scope };
  struct resp x = { .body_max = BODY_MAX };
  int ret = request (r, &q, repo, &x, err);
  if (ret == 0)
    ret = x.status == 201 ? 1 : 0;
  resp_clear (&x);
  return ret;
}

int
imagefmt_registry_put_blob (struct imagefmt_registry *r, const char *repo, const char *digest,
                            int fd, int64_t size, void (*progress) (int64_t sent, void *arg),
                            void *arg, nook_error_t *err)
{
  if (ensure_ready (r, err) < 0)
    return -1;
  cleanup_free char *url = api_url (r, "/v2/%s%s/blobs/uploads/", r->sh->prefix, repo);
  cleanup_free char *scope = scope_of (r, repo, "pull,push");
  cleanup_free char *what = xasprintf ("upload blob %s", digest);
  struct req q = { .what = what, .method = "POST", .url = url, .scope = scope };
  struct resp x = { .body_max = BODY_MAX };
  int ret = request (r, &q, repo, &x, err);
  if (ret == 0 && (x.status != 202 || x.location == NULL))
    ret = x.status == 202
              ? nook_error_set (err, EPROTO, "%s: %s: no Location in the answer", r->sh->name, what)
              : http_error (r, what, &x, err);
  if (ret < 0)
    {
      resp_clear (&x);
      return -1;
    }
  cleanup_free char *loc = absolute_location (r, x.location);
  char *ed = curl_easy_escape (handle (r), digest, 0);
  cleanup_free char *put_url = xasprintf ("%s%cdigest=%s", loc, strchr (loc, '?') ? '&' : '?', ed);
  curl_free (ed);
  off_t start = lseek (fd, 0, SEEK_CUR);
  struct upload u = {
    .fd = fd, .size = size, .start = start < 0 ? 0 : start, .progress = progress, .arg = arg
  };
  struct req put = { .what = what,
                     .method = "PUT",
                     .url = put_url,
                     .scope = scope,
                     .content_type = "application/octet-stream",
                     .body = &u };
  ret = request (r, &put, repo, &x, err);
  if (ret == 0 && x.status != 201)
    ret = http_error (r, what, &x, err);
  resp_clear (&x);
  return ret;
}

int
imagefmt_registry_put_manifest (struct imagefmt_registry *r, const char *repo,
                                const char *reference, const char *data, size_t len,
                                const char *media_type, nook_error_t *err)
{
  if (ensure_ready (r, err) < 0)
    return -1;
  cleanup_free char *url = api_url (r, "/v2/%s%s/manifests/%s", r->sh->prefix, repo, reference);
  cleanup_free char *scope = scope_of (r, repo, "pull,push");
  cleanup_free char *what = xasprintf ("put manifest %s:%s", repo, reference);
  struct upload u = { .fd = -1, .size = (int64_t)len, .data = data };
  struct req q = { .what = what,
                   .method = "PUT",
                   .url = url,
                   .scope = scope,
                   .content_type = media_type,
                   .body = &u };
  struct resp x = { .body_max = BODY_MAX };
  int ret = request (r, &q, repo, &x, err);
  if (ret == 0 && x.status != 201 && x.status != 200)
    ret = http_error (r, what, &x, err);
  resp_clear (&x);
  return ret;
}
