#ifndef SX_BANNED_H
#define SX_BANNED_H
/*
 * Calls that overflow buffers or hide errors are banned, as in git's
 * banned.h: use snprintf, sx_buf_*, strtol-family parsers and memcpy with an
 * explicit length instead.  Including this after the system headers turns a
 * use into a compile error.
 */
#define BANNED(func) sorry_##func##_is_a_banned_function
#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#endif
