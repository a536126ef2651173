"""PyTorch baseline for the workbench benchmark: one epoch of ResNet18 at 32x32 on an image
folder with torchvision's ImageFolder and a DataLoader with 2 workers, then the training step
alone on a batch in memory. Prints the same figures as bench_train."""
import sys
import time

import torch
import torchvision
from torchvision import transforms


def main():
    root = sys.argv[1]
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    step_iterations = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    torch.set_num_threads(2)
    torch.manual_seed(0)
    tf = transforms.Compose([
        transforms.Resize(32),
        transforms.CenterCrop(32),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    data = torchvision.datasets.ImageFolder(root + "/train", tf)
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True, num_workers=2)
    model = torchvision.models.resnet18(num_classes=len(data.classes))
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = torch.nn.CrossEntropyLoss()

    images = 0
    start = None
    for x, y in loader:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if start is None:
            start = time.perf_counter()  # timed from the end of step one, as bench_train
        else:
            images += x.shape[0]
    seconds = time.perf_counter() - start
    print(f"pytorch_epoch_images_per_second {images / seconds:.1f}")

    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(step_iterations):
        step()
    seconds = time.perf_counter() - t0
    print(f"pytorch_step_images_per_second {step_iterations * batch / seconds:.1f}")


if __name__ == "__main__":
    main()
