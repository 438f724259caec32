# Shared by ab.sh and profile.sh (sourced, not run): the static site the nginx backend serves and the
# TLS certificate Meridian's TLS listener uses, made in a run's temporary directory, and free ports.

# free_ports N: N ports free on 127.0.0.1 now, space-separated.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))
PY
}

# make_site DIR: DIR/www/hello.txt (the 100-byte body of S1 and S4), DIR/www/uploaded.txt (the
# backend's answer to S8's POST /upload; without it the backend answers 404), DIR/tls/site.{crt,key}
# (a self-signed certificate for localhost and 127.0.0.1) and DIR/backend-tmp (nginx's temporary files).
make_site() {
  mkdir -p "$1/www" "$1/tls" "$1/backend-tmp"
  python3 -c 'import sys; t = "hello from the meridian bench suite backend " * 3; print(t[:99])' > "$1/www/hello.txt"
  echo "uploaded" > "$1/www/uploaded.txt"
  chmod 755 "$1" "$1/www"; chmod 644 "$1/www/hello.txt" "$1/www/uploaded.txt"   # nginx's workers run as another user
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$1/tls/site.key" -out "$1/tls/site.crt" 2>/dev/null
}
