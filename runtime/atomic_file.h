#pragma once
// Replacing a file atomically: readers of the file see the old contents or
// the new ones, whole, never a mix or a part, and nobody else can redirect
// the write. Used by the disk kernel cache and by export_function.
//
// The data goes to a temporary file with a fresh random name in the same
// directory, created with O_CREAT|O_EXCL|O_NOFOLLOW (so a file or link
// planted under some name is never opened, let alone written through),
// then renamed over the target. Several writers of one target do not
// disturb each other: the last rename wins. On any failure the temporary
// file is removed and the target is left as it was.
#include <sys/types.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace kiln::runtime {

// Writes the concatenation of `parts` to the file `name` of the directory
// open as `dir_fd`. The temporary file is named temp_prefix followed by
// random letters; it is created with `mode` (less the umask). With `sync`,
// the data is flushed to the disk before the rename (and the rename after
// it), so a crash leaves the old file or the new one, not an empty one.
// Throws std::runtime_error saying what failed; a file over the process's
// file size limit (RLIMIT_FSIZE) fails that way too, before anything is
// written, instead of raising SIGXFSZ.
void write_file_atomically(int dir_fd, const std::string& name, std::initializer_list<std::string_view> parts,
                           const std::string& temp_prefix, mode_t mode, bool sync);

// The same for a path: the temporary file is ".<file name>.tmp-<random>"
// beside it.
void write_file_atomically(const std::string& path, std::initializer_list<std::string_view> parts, mode_t mode,
                           bool sync);

}  // namespace kiln::runtime
