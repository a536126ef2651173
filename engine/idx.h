#pragma once

#include <string>
#include <vector>

namespace wb {

/// Images of an IDX file (the MNIST family's format, plain or gzip-compressed): `count`
/// images of rows x cols unsigned bytes.
struct IdxImages {
    int count = 0;
    int rows = 0;
    int cols = 0;
    std::vector<unsigned char> pixels;
};

/// Reads an IDX image file (magic 0x00000803). Throws DataError naming the file when it cannot
/// be read, has another magic number, bad dimensions or is shorter than its header says.
IdxImages read_idx_images(const std::string& path);
/// Reads an IDX label file (magic 0x00000801), one byte per label; errors as above.
std::vector<int> read_idx_labels(const std::string& path);

/// Class names of Fashion-MNIST in label order.
const std::vector<std::string>& fashion_mnist_classes();

/// Writes images as PNG files into out_dir/<class name>/<index>.png, where <index> is the
/// image's position in the IDX file, zero-padded to the digits of the count. `class_names`
/// gives the folder for each label (label numbers when empty). Per class, the first
/// `skip_per_class` images are passed over and then, when `limit_per_class` > 0, only the next
/// N are written, so that two calls can take disjoint subsets. Returns the number of images
/// written. Throws DataError with the file's name on a bad header, a count mismatch or a label
/// without a class name.
int export_idx_to_folder(const std::string& images_path, const std::string& labels_path,
                         const std::string& out_dir, const std::vector<std::string>& class_names,
                         int limit_per_class = 0, int skip_per_class = 0);

}  // namespace wb
