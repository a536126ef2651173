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

IdxImages read_idx_images(const std::string& path);
std::vector<int> read_idx_labels(const std::string& path);

/// Class names of Fashion-MNIST in label order.
const std::vector<std::string>& fashion_mnist_classes();

/// Writes images as PNG files into out_dir/<class name>/<index>.png. `class_names` gives the
/// folder for each label (label numbers when empty). Returns the number of images written.
/// `limit_per_class` > 0 keeps only the first N images of each class. Throws DataError with the
/// file's name on a bad header or a count mismatch.
int export_idx_to_folder(const std::string& images_path, const std::string& labels_path,
                         const std::string& out_dir, const std::vector<std::string>& class_names,
                         int limit_per_class = 0);

}  // namespace wb
