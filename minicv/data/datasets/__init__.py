from .mnist import MNIST, FashionMNIST
from .cifar import CIFAR10, CIFAR100
from .folder import ImageFolder
from .synthetic import SynthDigits, Shapes, TextLines
