/* tests/helpers/probe.c: placeholder */
int main (void) { return 0; }
